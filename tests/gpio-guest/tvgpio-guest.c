// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tvgpio-guest: the gpio-guest tests' guest-side tool, a small command interpreter on the
 * GPIO character device uAPI v2 (static aarch64, runs in the TCG guest on busybox).
 *
 *   tvgpio-guest [COMMAND...]      runs each argument as one command, then reads more
 *                                  commands from stdin, one a line, until EOF or "quit"
 *
 * Command n prints its results as "R <n> ..." lines and ends with "R <n> done", so the
 * host (which writes to the guest's console) can wait for exactly that line. The line
 * requests a command makes are kept until "release" (a virtio-gpio line released by the
 * guest goes back to direction "none" in the backend, so a value the host must observe
 * needs the request held).
 *
 *   find                  open the first /dev/gpiochipN whose label starts with "virtio"
 *   chip PATH             open PATH
 *   info                  "chip <dev> label=<label> lines=<n>"
 *   lines                 "line <i> name=<name> used=0|1 dir=in|out consumer=<c|->" each
 *   out I V               request line I as output with value V
 *   in I                  request line I as input
 *   edge I rising|falling|both   request line I as input with edge detection
 *   set I V               set the value of the held request of line I
 *   get I                 "value I V" (the held request, else a short-lived input request)
 *   wait I MS             "event I rising|falling seqno=S line_seqno=L", or "timeout I"
 *   release I             drop the request of line I
 *   bad N                 try line offset N: "bad N lineinfo=<errno name> request=<...>"
 *   sleep MS
 *   bench set|info I N    N SET_VALUES ioctls on the held request of line I (alternating 0/1),
 *                         or N GET_CHIPINFO ioctls (they stay in the guest kernel): "bench
 *                         set|info N <total ns> <ns> ns/op"
 *   sh CMD...             /bin/sh -c CMD; its output, then "status <exit status>"
 *   quit
 * A failure prints "error <what>: <errno name>" (the command still ends with "done").
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINES 64

static int chip_fd = -1;
static char chip_path[64];
static unsigned chip_lines;
static int req_fd[MAX_LINES];
static unsigned long cmd_no;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        va_list ap;

        printf("R %lu ", cmd_no);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

static const char *ename(int e)
{
        switch (e) {
        case 0: return "0";
        case EINVAL: return "EINVAL";
        case EBUSY: return "EBUSY";
        case EPERM: return "EPERM";
        case EIO: return "EIO";
        case ENODEV: return "ENODEV";
        case ENOENT: return "ENOENT";
        case ENXIO: return "ENXIO";
        case EAGAIN: return "EAGAIN";
        case ETIMEDOUT: return "ETIMEDOUT";
        default: {
                static char buf[16];
                snprintf(buf, sizeof(buf), "errno%d", e);
                return buf;
        }
        }
}

static int chip_open(const char *path)
{
        struct gpiochip_info ci;
        int fd = open(path, O_RDWR | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        memset(&ci, 0, sizeof(ci));
        if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        if (chip_fd >= 0)
                close(chip_fd);
        for (unsigned i = 0; i < MAX_LINES; i++)
                if (req_fd[i] >= 0) {
                        close(req_fd[i]);
                        req_fd[i] = -1;
                }
        chip_fd = fd;
        chip_lines = ci.lines;
        snprintf(chip_path, sizeof(chip_path), "%s", path);
        return 0;
}

static int label_of(const char *path, char *label, size_t n)
{
        struct gpiochip_info ci;
        int fd = open(path, O_RDWR | O_CLOEXEC);

        if (fd < 0)
                return -1;
        memset(&ci, 0, sizeof(ci));
        int r = ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
        close(fd);
        if (r < 0)
                return -1;
        snprintf(label, n, "%s", ci.label);
        return 0;
}

static void cmd_find(void)
{
        char path[64], label[64];

        for (int i = 0; i < 32; i++) {
                snprintf(path, sizeof(path), "/dev/gpiochip%d", i);
                if (label_of(path, label, sizeof(label)) < 0 || strncmp(label, "virtio", 6) != 0)
                        continue;
                int r = chip_open(path);
                if (r < 0)
                        say("error open %s: %s", path, ename(-r));
                else
                        say("chip %s label=%s lines=%u", path, label, chip_lines);
                return;
        }
        say("error find: no virtio gpiochip");
}

static int need_line(const char *arg, unsigned *out)
{
        char *end;
        unsigned long v;

        if (chip_fd < 0) {
                say("error no chip open");
                return -1;
        }
        errno = 0;
        v = strtoul(arg ? arg : "", &end, 0);
        if (!arg || *end || errno || v >= MAX_LINES) {
                say("error bad line '%s'", arg ? arg : "");
                return -1;
        }
        *out = (unsigned)v;
        return 0;
}

static int request(unsigned line, __u64 flags, int value)
{
        struct gpio_v2_line_request req;

        memset(&req, 0, sizeof(req));
        req.offsets[0] = line;
        req.num_lines = 1;
        snprintf(req.consumer, sizeof(req.consumer), "tvgpio-guest");
        req.config.flags = flags;
        if (flags & GPIO_V2_LINE_FLAG_OUTPUT) {
                req.config.num_attrs = 1;
                req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
                req.config.attrs[0].attr.values = value ? 1 : 0;
                req.config.attrs[0].mask = 1;
        }
        if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
                return -errno;
        return req.fd;
}

static void replace_req(unsigned line, int fd)
{
        if (req_fd[line] >= 0)
                close(req_fd[line]);
        req_fd[line] = fd;
}

static void cmd_request(const char *what, unsigned line, __u64 flags, int value)
{
        /* the kernel refuses a second request of a line we hold: drop ours first */
        replace_req(line, -1);
        int fd = request(line, flags, value);
        if (fd < 0) {
                say("error %s %u: %s", what, line, ename(-fd));
                return;
        }
        replace_req(line, fd);
        say("%s %u ok", what, line);
}

static void cmd_lines(void)
{
        for (unsigned i = 0; i < chip_lines; i++) {
                struct gpio_v2_line_info li;

                memset(&li, 0, sizeof(li));
                li.offset = i;
                if (ioctl(chip_fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0) {
                        say("error lineinfo %u: %s", i, ename(errno));
                        continue;
                }
                say("line %u name=%s used=%d dir=%s consumer=%s", i, li.name[0] ? li.name : "-",
                    !!(li.flags & GPIO_V2_LINE_FLAG_USED),
                    (li.flags & GPIO_V2_LINE_FLAG_OUTPUT) ? "out" : "in",
                    li.consumer[0] ? li.consumer : "-");
        }
}

static void cmd_get(unsigned line)
{
        struct gpio_v2_line_values v = { .bits = 0, .mask = 1 };
        int fd = req_fd[line], tmp = -1;

        if (fd < 0) {
                tmp = fd = request(line, GPIO_V2_LINE_FLAG_INPUT, 0);
                if (fd < 0) {
                        say("error get %u: request: %s", line, ename(-fd));
                        return;
                }
        }
        if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
                say("error get %u: %s", line, ename(errno));
        else
                say("value %u %d", line, (int)(v.bits & 1));
        if (tmp >= 0)
                close(tmp);
}

static void cmd_set(unsigned line, int value)
{
        struct gpio_v2_line_values v = { .bits = value ? 1 : 0, .mask = 1 };

        if (req_fd[line] < 0) {
                say("error set %u: line not requested (use out)", line);
                return;
        }
        if (ioctl(req_fd[line], GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0)
                say("error set %u: %s", line, ename(errno));
        else
                say("set %u %d ok", line, value);
}

static void cmd_wait(unsigned line, int ms)
{
        struct pollfd p = { .fd = req_fd[line], .events = POLLIN };
        struct gpio_v2_line_event ev;

        if (p.fd < 0) {
                say("error wait %u: line not requested (use edge)", line);
                return;
        }
        int r = poll(&p, 1, ms);
        if (r < 0) {
                say("error wait %u: %s", line, ename(errno));
                return;
        }
        if (r == 0) {
                say("timeout %u", line);
                return;
        }
        ssize_t n = read(p.fd, &ev, sizeof(ev));
        if (n != (ssize_t)sizeof(ev)) {
                say("error wait %u: read %zd: %s", line, n, ename(n < 0 ? errno : EIO));
                return;
        }
        say("event %u %s seqno=%u line_seqno=%u", ev.offset,
            ev.id == GPIO_V2_LINE_EVENT_RISING_EDGE ? "rising" :
            ev.id == GPIO_V2_LINE_EVENT_FALLING_EDGE ? "falling" : "unknown",
            ev.seqno, ev.line_seqno);
}

static void cmd_bad(unsigned long n)
{
        struct gpio_v2_line_info li;
        struct gpio_v2_line_request req;
        int e1 = 0, e2 = 0;

        memset(&li, 0, sizeof(li));
        li.offset = (__u32)n;
        if (ioctl(chip_fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0)
                e1 = errno;
        memset(&req, 0, sizeof(req));
        req.offsets[0] = (__u32)n;
        req.num_lines = 1;
        req.config.flags = GPIO_V2_LINE_FLAG_INPUT;
        snprintf(req.consumer, sizeof(req.consumer), "tvgpio-guest");
        if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
                e2 = errno;
        else
                close(req.fd);
        char a[16];
        snprintf(a, sizeof(a), "%s", ename(e1));
        say("bad %lu lineinfo=%s request=%s", n, a, ename(e2));
}

static long long now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void cmd_bench(const char *what, unsigned line, long n)
{
        struct gpiochip_info ci;
        bool set = !strcmp(what, "set");

        if (n <= 0 || (set && req_fd[line] < 0)) {
                say("error bench: bad count or line %u not requested (use out)", line);
                return;
        }
        long long t0 = now_ns();
        for (long i = 0; i < n; i++) {
                struct gpio_v2_line_values v = { .bits = (__u64)(i & 1), .mask = 1 };
                int r = set ? ioctl(req_fd[line], GPIO_V2_LINE_SET_VALUES_IOCTL, &v) :
                              ioctl(chip_fd, GPIO_GET_CHIPINFO_IOCTL, &ci);
                if (r < 0) {
                        say("error bench %s: %s after %ld", what, ename(errno), i);
                        return;
                }
        }
        long long dt = now_ns() - t0;
        say("bench %s %ld %lld %lld ns/op", what, n, dt, dt / n);
}

static void cmd_sh(const char *cmd)
{
        fflush(stdout);
        FILE *p = popen(cmd, "r");
        char buf[512];

        if (!p) {
                say("error sh: %s", ename(errno));
                return;
        }
        while (fgets(buf, sizeof(buf), p)) {
                buf[strcspn(buf, "\n")] = 0;
                say("| %s", buf);
        }
        int st = pclose(p);
        say("status %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* one command; returns 1 on "quit" */
static int run(char *line)
{
        char *argv[8] = { NULL }, *save = NULL, *rest = NULL, shcmd[512];
        int argc = 0;
        unsigned l;

        line[strcspn(line, "\r\n")] = 0;
        while (*line == ' ' || *line == '\t')
                line++;
        if (!*line)
                return 0;
        cmd_no++;
        if (strncmp(line, "sh ", 3) == 0) {
                /* the tokenizer below cuts the line: keep the command whole */
                snprintf(shcmd, sizeof(shcmd), "%s", line + 3);
                rest = shcmd;
        }
        for (char *t = strtok_r(line, " \t", &save); t && argc < 8; t = strtok_r(NULL, " \t", &save))
                argv[argc++] = t;
        const char *c = argv[0] ? argv[0] : "";
        const char *a1 = argc > 1 ? argv[1] : NULL, *a2 = argc > 2 ? argv[2] : NULL;

        if (!strcmp(c, "quit")) {
                say("done");
                return 1;
        } else if (!strcmp(c, "find")) {
                cmd_find();
        } else if (!strcmp(c, "chip") && a1) {
                int r = chip_open(a1);
                if (r < 0)
                        say("error open %s: %s", a1, ename(-r));
                else
                        say("chip %s lines=%u", a1, chip_lines);
        } else if (!strcmp(c, "info")) {
                char label[64] = "";
                if (chip_fd < 0 || label_of(chip_path, label, sizeof(label)) < 0)
                        say("error info: no chip");
                else
                        say("chip %s label=%s lines=%u", chip_path, label, chip_lines);
        } else if (!strcmp(c, "lines")) {
                if (chip_fd < 0)
                        say("error no chip open");
                else
                        cmd_lines();
        } else if (!strcmp(c, "out") && a2 && !need_line(a1, &l)) {
                cmd_request("out", l, GPIO_V2_LINE_FLAG_OUTPUT, atoi(a2));
        } else if (!strcmp(c, "in") && !need_line(a1, &l)) {
                cmd_request("in", l, GPIO_V2_LINE_FLAG_INPUT, 0);
        } else if (!strcmp(c, "edge") && a2 && !need_line(a1, &l)) {
                __u64 f = GPIO_V2_LINE_FLAG_INPUT;
                if (!strcmp(a2, "rising"))
                        f |= GPIO_V2_LINE_FLAG_EDGE_RISING;
                else if (!strcmp(a2, "falling"))
                        f |= GPIO_V2_LINE_FLAG_EDGE_FALLING;
                else
                        f |= GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
                cmd_request("edge", l, f, 0);
        } else if (!strcmp(c, "set") && a2 && !need_line(a1, &l)) {
                cmd_set(l, atoi(a2));
        } else if (!strcmp(c, "get") && !need_line(a1, &l)) {
                cmd_get(l);
        } else if (!strcmp(c, "wait") && a2 && !need_line(a1, &l)) {
                cmd_wait(l, atoi(a2));
        } else if (!strcmp(c, "release") && !need_line(a1, &l)) {
                replace_req(l, -1);
                say("release %u ok", l);
        } else if (!strcmp(c, "bad") && a1) {
                if (chip_fd < 0)
                        say("error no chip open");
                else
                        cmd_bad(strtoul(a1, NULL, 0));
        } else if (!strcmp(c, "sleep") && a1) {
                struct timespec ts = { atoi(a1) / 1000, (atoi(a1) % 1000) * 1000000L };
                nanosleep(&ts, NULL);
        } else if (!strcmp(c, "bench") && a2 && argc > 3 && chip_fd >= 0 && !need_line(a2, &l)) {
                cmd_bench(a1, l, strtol(argv[3], NULL, 0));
        } else if (!strcmp(c, "sh") && rest) {
                cmd_sh(rest);
        } else {
                say("error bad command or arguments: '%s'", c);
        }
        say("done");
        return 0;
}

int main(int argc, char **argv)
{
        char line[512];
        struct termios t;

        for (unsigned i = 0; i < MAX_LINES; i++)
                req_fd[i] = -1;
        /* the host writes commands to the console: no echo of them in the output it parses */
        if (tcgetattr(0, &t) == 0) {
                t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
                tcsetattr(0, TCSANOW, &t);
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int i = 1; i < argc; i++) {
                snprintf(line, sizeof(line), "%s", argv[i]);
                if (run(line))
                        return 0;
        }
        if (argc > 1 && !isatty(0))
                return 0;
        printf("R ready\n");
        fflush(stdout);
        while (fgets(line, sizeof(line), stdin))
                if (run(line))
                        break;
        return 0;
}
