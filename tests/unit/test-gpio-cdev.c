// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * common/tv-gpio-cdev: the socket transport against a scripted peer (framing, replies with
 * and without data, the line request's two fds, events, every malformed reply, a peer gone)
 * and the kernel path on a character device that is no GPIO chip (/dev/null: ENOTTY).
 */
#include "tv-gpio-cdev.h"
#include "tv-tap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum mode {
        M_CHIPINFO,     /* a good reply with data */
        M_ERR,          /* err EBUSY */
        M_GETLINE,      /* err 0 and two fds */
        M_VALUES,       /* GET_VALUES on a control socket: bits = mask */
        M_BADMAGIC, M_SHORT, M_ERRDATA, M_FDS_ON_CHIPINFO, M_ONEFD, M_HANGUP,
};

static _Atomic int mode;
static _Atomic uint32_t seen_nr, seen_len;
static int listen_fd = -1;
static int srv_ev = -1, srv_ctl = -1;   /* our ends of the line request */

static void reply(int fd, int32_t err, const void *arg, size_t size, const int *fds, int nfds)
{
        uint8_t buf[8 + 1024];
        uint32_t magic = TV_GPIO_SOCK_MAGIC;
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(2 * sizeof(int))];
        } c;
        struct iovec iov = { .iov_base = buf, .iov_len = 8 + size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        memset(&c, 0, sizeof(c));
        memcpy(buf, &magic, 4);
        memcpy(buf + 4, &err, 4);
        if (size)
                memcpy(buf + 8, arg, size);
        if (nfds) {
                struct cmsghdr *cm;

                mh.msg_control = c.b;
                mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
                memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
        }
        (void)!sendmsg(fd, &mh, MSG_NOSIGNAL);
}

/* serves one request on fd the way `mode` says; false when the peer is gone */
static bool serve_one(int fd)
{
        uint8_t in[8 + 1024];
        uint32_t magic, nr;
        ssize_t n = recv(fd, in, sizeof(in), 0);
        int pair[2], pair2[2], fds[2];

        if (n < 8)
                return false;
        memcpy(&magic, in, 4);
        memcpy(&nr, in + 4, 4);
        seen_nr = magic == TV_GPIO_SOCK_MAGIC ? nr : 0;
        seen_len = (uint32_t)n;
        switch (atomic_load(&mode)) {
        case M_CHIPINFO: {
                struct gpiochip_info ci = { .lines = 7 };

                strcpy(ci.label, "fake");
                reply(fd, 0, &ci, sizeof(ci), NULL, 0);
                break;
        }
        case M_ERR:
                reply(fd, EBUSY, NULL, 0, NULL, 0);
                break;
        case M_GETLINE:
                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair);
                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair2);
                srv_ev = pair[0];
                srv_ctl = pair2[0];
                fds[0] = pair[1];
                fds[1] = pair2[1];
                reply(fd, 0, in + 8, n - 8, fds, 2);
                close(pair[1]);
                close(pair2[1]);
                break;
        case M_ONEFD:
                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair);
                reply(fd, 0, in + 8, n - 8, pair, 1);
                close(pair[0]);
                close(pair[1]);
                break;
        case M_VALUES: {
                struct gpio_v2_line_values v;

                memcpy(&v, in + 8, sizeof(v));
                v.bits = v.mask;
                reply(fd, 0, &v, sizeof(v), NULL, 0);
                break;
        }
        case M_BADMAGIC: {
                uint32_t bad[2] = { 0x12345678, 0 };

                send(fd, bad, sizeof(bad), 0);
                break;
        }
        case M_SHORT:
                send(fd, in, 6, 0);
                break;
        case M_ERRDATA: {
                uint8_t junk[16] = { 0 };

                reply(fd, EIO, junk, sizeof(junk), NULL, 0);
                break;
        }
        case M_FDS_ON_CHIPINFO: {
                struct gpiochip_info ci = { .lines = 1 };

                socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair);
                reply(fd, 0, &ci, sizeof(ci), pair, 2);
                close(pair[0]);
                close(pair[1]);
                break;
        }
        case M_HANGUP:
                return false;
        }
        return true;
}

static void *server(void *arg)
{
        int fd = accept(listen_fd, NULL, NULL);

        (void)arg;
        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = srv_ctl, .events = POLLIN } };

                if (poll(p, srv_ctl >= 0 ? 2 : 1, -1) < 0)
                        break;
                if (p[0].revents && !serve_one(fd))
                        break;
                if (srv_ctl >= 0 && p[1].revents && !serve_one(srv_ctl)) {
                        close(srv_ctl);         /* the client closed its request */
                        srv_ctl = -1;
                }
        }
        if (srv_ev >= 0)
                close(srv_ev);
        if (srv_ctl >= 0)
                close(srv_ctl);
        close(fd);
        return NULL;
}

static int open_fds(void)
{
        int n = 0;

        for (int fd = 0; fd < 256; fd++)
                n += fcntl(fd, F_GETFD) >= 0;
        return n;
}

/* one more exchange: the server has finished with the one before (its fds settled) */
static void sync_server(int fd)
{
        struct gpiochip_info ci = { .lines = 0 };

        mode = M_ERR;
        tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
}

static bool cloexec(int fd)
{
        int f = fcntl(fd, F_GETFD);

        return f >= 0 && (f & FD_CLOEXEC);
}

int main(void)
{
        char dir[] = "/tmp/tv-gpio-cdev-XXXXXX", path[128];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct gpio_v2_line_request rq;
        struct gpio_v2_line_values v;
        struct gpio_v2_line_info li;
        struct gpio_v2_line_event ev, got;
        struct gpiochip_info ci;
        TvGpioLineReq l = { -1, -1 }, k;
        pthread_t th;
        int fd, r, before;

        /* ---- the kernel path: a character device that is no GPIO chip ---- */
        CHECK(tv_gpio_chip_open("/nonexistent/gpiochip0") == -ENOENT, "a missing chip: -ENOENT");
        fd = tv_gpio_chip_open("/dev/null");
        CHECK(fd >= 0 && cloexec(fd), "/dev/null opens as a character device, CLOEXEC");
        CHECK(fcntl(fd, F_GETFL) >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "  ... read-write");
        memset(&ci, 0, sizeof(ci));
        CHECK(tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) == -ENOTTY, "  ... CHIPINFO is ioctl(2): -ENOTTY");
        memset(&rq, 0, sizeof(rq));
        rq.num_lines = 1;
        r = tv_gpio_line_request(fd, &rq, &k);
        CHECK(r == -ENOTTY && k.fd == -1 && k.ctl == -1, "  ... GET_LINE: -ENOTTY, no fds");
        k.fd = k.ctl = fd;      /* a kernel request: one fd for both */
        memset(&v, 0, sizeof(v));
        CHECK(tv_gpio_line_ioctl(&k, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) == -ENOTTY, "  ... a line ioctl: -ENOTTY");
        tv_gpio_line_close(&k);
        CHECK(k.fd == -1 && k.ctl == -1 && fcntl(fd, F_GETFD) < 0 && errno == EBADF,
              "tv_gpio_line_close on a kernel request closes its one fd (once) and clears both");

        /* ---- the socket transport against a scripted peer ---- */
        if (!mkdtemp(dir))
                return 1;
        snprintf(path, sizeof(path), "%s/gpiochip0", dir);
        strcpy(sa.sun_path, path);
        listen_fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(listen_fd, 1))
                return 1;
        pthread_create(&th, NULL, server, NULL);
        fd = tv_gpio_chip_open(path);
        CHECK(fd >= 0 && cloexec(fd), "a socket path connects (CLOEXEC)");

        mode = M_CHIPINFO;
        memset(&ci, 0, sizeof(ci));
        r = tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
        CHECK(r == 0 && !strcmp(ci.label, "fake") && ci.lines == 7, "CHIPINFO: the reply's struct is copied out");
        CHECK(seen_nr == (uint32_t)GPIO_GET_CHIPINFO_IOCTL && seen_len == 8 + sizeof(ci),
              "  ... the request was {magic, the full request number, the struct}");
        mode = M_ERR;
        memset(&li, 0x55, sizeof(li));
        r = tv_gpio_chip_ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li);
        CHECK(r == -EBUSY && li.offset == 0x55555555, "an err reply is -errno and leaves the argument alone");

        mode = M_GETLINE;
        memset(&rq, 0, sizeof(rq));
        rq.num_lines = 1;
        rq.offsets[0] = 3;
        r = tv_gpio_line_request(fd, &rq, &l);
        CHECK(r == 0 && l.fd >= 0 && l.ctl >= 0 && l.fd != l.ctl && rq.fd == l.fd,
              "GET_LINE: the event and control sockets from SCM_RIGHTS; req->fd is the event one");
        CHECK(cloexec(l.fd) && cloexec(l.ctl), "  ... both CLOEXEC");
        mode = M_VALUES;
        v = (struct gpio_v2_line_values){ .mask = 1 };
        r = tv_gpio_line_ioctl(&l, GPIO_V2_LINE_GET_VALUES_IOCTL, &v);
        CHECK(r == 0 && v.bits == 1 && seen_nr == (uint32_t)GPIO_V2_LINE_GET_VALUES_IOCTL,
              "a line ioctl goes over the control socket with the same framing");
        CHECK(tv_gpio_line_read_event(&l, &got) == 0, "no event queued: 0");
        memset(&ev, 0, sizeof(ev));
        ev.id = GPIO_V2_LINE_EVENT_RISING_EDGE;
        ev.offset = 3;
        ev.seqno = ev.line_seqno = 1;
        ev.timestamp_ns = 42;
        send(srv_ev, &ev, sizeof(ev), 0);
        r = tv_gpio_line_read_event(&l, &got);
        CHECK(r == 1 && !memcmp(&ev, &got, sizeof(ev)), "an event message reads as the struct: 1");
        send(srv_ev, &ev, 5, 0);
        CHECK(tv_gpio_line_read_event(&l, &got) == -EPROTO, "a short event message: -EPROTO");
        shutdown(srv_ev, SHUT_RDWR);
        CHECK(tv_gpio_line_read_event(&l, &got) == -ENODEV, "the event socket shut (chip gone): -ENODEV");

        mode = M_BADMAGIC;
        CHECK(tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) == -EPROTO, "a reply with a bad magic: -EPROTO");
        mode = M_SHORT;
        CHECK(tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) == -EPROTO, "a reply shorter than its header: -EPROTO");
        mode = M_ERRDATA;
        CHECK(tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) == -EPROTO, "an err reply with data: -EPROTO");
        mode = M_FDS_ON_CHIPINFO;
        before = open_fds();
        r = tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
        sync_server(fd);
        CHECK(r == -EPROTO && open_fds() == before, "fds on a reply that carries none: -EPROTO, and they are closed");
        mode = M_ONEFD;
        before = open_fds();
        r = tv_gpio_line_request(fd, &rq, &k);
        sync_server(fd);
        CHECK(r == -EPROTO && k.fd == -1 && k.ctl == -1 && open_fds() == before,
              "a GET_LINE reply with one fd: -EPROTO, nothing leaks (r %d, fds %d -> %d)", r, before, open_fds());

        tv_gpio_line_close(&l);
        CHECK(l.fd == -1 && l.ctl == -1, "tv_gpio_line_close clears both");
        mode = M_HANGUP;
        r = tv_gpio_chip_ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
        CHECK(r == -ENODEV, "the peer closed the chip socket: -ENODEV (got %d)", r);
        pthread_join(th, NULL);
        close(fd);
        close(listen_fd);
        unlink(path);
        rmdir(dir);
        return tap_finish();
}
