// SPDX-License-Identifier: GPL-2.0-or-later
/* The GPIO character device by ioctl(2), or orin-sim's simulated chip by messages that carry
 * the same ioctls and structs on a SOCK_SEQPACKET socket (wire format in the header). */
#include "tv-gpio-cdev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The largest uAPI v2 argument is struct gpio_v2_line_request (592 bytes). */
#define MAX_ARG 1024

static bool is_socket(int fd)
{
        struct stat st;

        return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int tv_gpio_chip_open(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        int fd;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode)) {
                fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
                return fd < 0 ? -errno : fd;
        }
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

static void close_fds(const int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

/* One request/reply exchange; fds received (up to 2) land in fds[] (-1 when none).
 * A closed peer (the simulator gone) reads as -ENODEV, like a removed chip. */
static int transact(int fd, unsigned long req, void *arg, int fds[2])
{
        size_t size = _IOC_SIZE(req);
        uint8_t out[8 + MAX_ARG], in[8 + MAX_ARG + 1];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(2 * sizeof(int))];
        } ctrl;
        struct iovec iov = { .iov_base = in, .iov_len = sizeof(in) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
                             .msg_controllen = sizeof(ctrl.buf) };
        uint32_t magic = TV_GPIO_SOCK_MAGIC, nr = (uint32_t)req;
        bool fds_bad = false;
        int32_t err;
        ssize_t n;

        fds[0] = fds[1] = -1;
        if (size > MAX_ARG || (unsigned long)nr != req)
                return -ENOTTY;
        memcpy(out, &magic, 4);
        memcpy(out + 4, &nr, 4);
        if (size)
                memcpy(out + 8, arg, size);
        do
                n = send(fd, out, 8 + size, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EPIPE || errno == ECONNRESET ? -ENODEV : -errno;
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == ECONNRESET ? -ENODEV : -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                int got[2] = { -1, -1 };
                size_t k;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                memcpy(got, CMSG_DATA(c), k * sizeof(int));   /* k <= 2: the buffer's room */
                if (k != 2 || fds[0] >= 0) {    /* never what we expect: drop it */
                        close_fds(got, k);
                        fds_bad = true;
                        continue;
                }
                fds[0] = got[0];
                fds[1] = got[1];
        }
        if (fds_bad)
                goto proto;
        if (n == 0) {
                close_fds(fds, 2);
                return -ENODEV;
        }
        if (n < 8 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
                goto proto;
        memcpy(&magic, in, 4);
        if (magic != TV_GPIO_SOCK_MAGIC)
                goto proto;
        memcpy(&err, in + 4, 4);
        if (err < 0 || err > 4095)
                goto proto;
        if (err) {
                if (n != 8 || fds[0] >= 0)
                        goto proto;
                return -err;
        }
        if ((_IOC_DIR(req) & _IOC_READ) ? (size_t)n != 8 + size : n != 8)
                goto proto;
        if (_IOC_DIR(req) & _IOC_READ)
                memcpy(arg, in + 8, size);
        return 0;
proto:
        close_fds(fds, 2);
        fds[0] = fds[1] = -1;
        return -EPROTO;
}

int tv_gpio_chip_ioctl(int chip_fd, unsigned long req, void *arg)
{
        int fds[2], r;

        if (!is_socket(chip_fd))
                return ioctl(chip_fd, req, arg) < 0 ? -errno : 0;
        r = transact(chip_fd, req, arg, fds);
        if (r == 0 && fds[0] >= 0) {
                close_fds(fds, 2);
                return -EPROTO;
        }
        return r;
}

int tv_gpio_line_request(int chip_fd, struct gpio_v2_line_request *req, TvGpioLineReq *out)
{
        int fds[2], r;

        out->fd = out->ctl = -1;
        if (!is_socket(chip_fd)) {
                if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, req) < 0)
                        return -errno;
                out->fd = out->ctl = req->fd;
                return 0;
        }
        r = transact(chip_fd, GPIO_V2_GET_LINE_IOCTL, req, fds);
        if (r < 0)
                return r;
        if (fds[0] < 0 || fds[1] < 0 || !is_socket(fds[0]) || !is_socket(fds[1])) {
                close_fds(fds, 2);
                return -EPROTO;
        }
        out->fd = req->fd = fds[0];
        out->ctl = fds[1];
        return 0;
}

int tv_gpio_line_ioctl(const TvGpioLineReq *l, unsigned long req, void *arg)
{
        int fds[2], r;

        if (l->ctl < 0)
                return -EBADF;
        if (l->ctl == l->fd)
                return ioctl(l->ctl, req, arg) < 0 ? -errno : 0;
        r = transact(l->ctl, req, arg, fds);
        if (r == 0 && fds[0] >= 0) {
                close_fds(fds, 2);
                return -EPROTO;
        }
        return r;
}

int tv_gpio_line_read_event(const TvGpioLineReq *l, struct gpio_v2_line_event *ev)
{
        struct pollfd p = { .fd = l->fd, .events = POLLIN };
        ssize_t n;

        if (l->fd < 0)
                return -EBADF;
        if (l->ctl != l->fd) {
                do
                        n = recv(l->fd, ev, sizeof(*ev), MSG_DONTWAIT | MSG_TRUNC);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
                if (n == 0)
                        return -ENODEV;         /* the simulator shut it: chip gone */
                return n == (ssize_t)sizeof(*ev) ? 1 : -EPROTO;
        }
        /* the kernel's line fd blocks in read(): look first */
        if (poll(&p, 1, 0) < 0)
                return -errno;
        if (!(p.revents & (POLLIN | POLLERR | POLLHUP)))
                return 0;
        do
                n = read(l->fd, ev, sizeof(*ev));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? 0 : -errno;
        return n == (ssize_t)sizeof(*ev) ? 1 : -EIO;
}

void tv_gpio_line_close(TvGpioLineReq *l)
{
        if (l->fd >= 0)
                close(l->fd);
        if (l->ctl >= 0 && l->ctl != l->fd)
                close(l->ctl);
        l->fd = l->ctl = -1;
}
