// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bpmp-glue-test: executes the Tegra BPMP host proxy driver in a real
 * kernel. Runs in the test guest with the bpmp-host-glue module loaded
 * (tests/kernel/module: the driver's own sources with a simulated BPMP
 * whose debugfs files it reads and drives) and prints TAP results, without
 * numbers or plan (tests/kernel/guest.sh adds both).
 *
 * Usage: bpmp-glue-test [LABEL]   (as root; debugfs on /sys/kernel/debug)
 * LABEL prefixes every description: guest.sh runs a 32-bit build as well
 * ("[arm32] "), through the driver's compat_ioctl.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "../../kernel/include/uapi/linux/tegra-bpmp-host-proxy.h"

#define GLUE "/sys/kernel/debug/bpmp-host-glue/"
#define PROXY "/sys/bus/platform/devices/bpmp-host-proxy/"
#define DRIVER "/sys/bus/platform/drivers/tegra-bpmp-host-proxy/"
#define PARAMS "/sys/module/bpmp_host_glue/parameters/"
#define DEV "/dev/bpmp-host"

/* BPMP ABI numbers (soc/tegra/bpmp-abi.h) */
#define MRQ_PING 0
#define MRQ_RESET 20
#define MRQ_CLK 22
#define MRQ_PG 66
#define CLK_GET_RATE 1
#define CLK_ENABLE 7
#define CLK_DISABLE 8
#define CLK_IS_ENABLED 6
#define CLK_GET_ALL_INFO 14
#define RESET_ASSERT 1
#define RESET_DEASSERT 2
#define PG_SET_STATE 1
#define PG_GET_STATE 2
#define STALE 0xee		/* what the simulated frame holds past a reply */
#define CLK_ALL_INFO_SIZE 113	/* sizeof(struct cmd_clk_get_all_info_response) */

/* the test's device tree: IDs of each kind (102 is a protected root) */
static const uint32_t dt_clocks[] = { 10, 11, 12, 20, 21, 102 };
static const uint32_t dt_resets[] = { 5, 6, 7 };
static const uint32_t dt_pds[] = { 3, 4 };
static const uint32_t dt_parents[] = { 30 };
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int tests, failures;
static const char *label = "";

static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!cond)
		failures++;
	/* unnumbered: the guest script adds its own results and the plan */
	printf("%sok - %s", cond ? "" : "not ", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

/* files */

static int write_buf(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

static int write_str(const char *path, const char *s)
{
	return write_buf(path, s, strlen(s));
}

static char *read_str(const char *path)
{
	static char buf[1 << 20];
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	buf[0] = 0;
	if (fd < 0)
		return buf;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	return buf;
}

static void must(int err, const char *what)
{
	if (err) {
		errno = -err;
		bail(what);
	}
}

/* the simulated BPMP */

static void clear_log(void)
{
	must(write_str(GLUE "log", "clear"), "clear the log");
}

static int log_count(void)
{
	const char *p = read_str(GLUE "log");
	int n = 0;

	for (; *p; p++)
		n += *p == '\n';
	return n;
}

struct record {
	unsigned int mrq, tx_size, rx_size;
	int rx_zero, err, ret, after_put;
	char tx[256];
};

/* record @i of the log (negative: from the end); false if none */
static bool log_record(int i, struct record *r)
{
	int n = log_count(), k = 0;
	char *p = read_str(GLUE "log"), *line;

	if (i < 0)
		i += n;
	if (i < 0 || i >= n)
		return false;
	for (line = strtok(p, "\n"); line; line = strtok(NULL, "\n"), k++) {
		if (k != i)
			continue;
		r->tx[0] = 0;
		return sscanf(line, "mrq=%u tx_size=%u rx_size=%u rx_zero=%d err=%d ret=%d after_put=%d tx=%255s",
			      &r->mrq, &r->tx_size, &r->rx_size, &r->rx_zero,
			      &r->err, &r->ret, &r->after_put, r->tx) >= 7;
	}
	return false;
}

/* the IDs of one line ("clocks_on: 1 2") of the state, as " 1 2 " */
static const char *state_of(const char *key)
{
	static char out[4096];
	char *p = read_str(GLUE "state"), *line;

	out[0] = 0;
	for (line = strtok(p, "\n"); line; line = strtok(NULL, "\n")) {
		size_t k = strlen(key);

		if (!strncmp(line, key, k) && line[k] == ':') {
			snprintf(out, sizeof(out), "%s ", line + k + 1);
			break;
		}
	}
	return out;
}

static bool state_has(const char *key, uint32_t id)
{
	char word[16];

	snprintf(word, sizeof(word), " %u ", id);
	return strstr(state_of(key), word) != NULL;
}

static int state_num(const char *key)
{
	return atoi(state_of(key));
}

/* a flattened device tree, version 17 */

struct fdt {
	uint8_t st[4096], str[512];
	size_t n_st, n_str;
};

static void fdt_word(struct fdt *f, uint32_t v)
{
	uint32_t be = htobe32(v);

	memcpy(f->st + f->n_st, &be, 4);
	f->n_st += 4;
}

static void fdt_bytes(struct fdt *f, const void *p, size_t n)
{
	memcpy(f->st + f->n_st, p, n);
	memset(f->st + f->n_st + n, 0, (4 - n % 4) % 4);
	f->n_st += (n + 3) & ~3UL;
}

static void fdt_begin(struct fdt *f, const char *name)
{
	fdt_word(f, 1);
	fdt_bytes(f, name, strlen(name) + 1);
}

static void fdt_prop(struct fdt *f, const char *name, const void *val,
		     size_t len)
{
	size_t off = f->n_str;

	memcpy(f->str + f->n_str, name, strlen(name) + 1);
	f->n_str += strlen(name) + 1;
	fdt_word(f, 3);
	fdt_word(f, len);
	fdt_word(f, off);
	fdt_bytes(f, val, len);
}

static void fdt_u32s(struct fdt *f, const char *name, const uint32_t *v,
		     size_t n)
{
	uint32_t be[300];
	size_t i;

	for (i = 0; i < n; i++)
		be[i] = htobe32(v[i]);
	fdt_prop(f, name, be, 4 * n);
}

/* @bpmp_compat: the simulated BPMP's compatible list ('\0'-separated);
 * @with_clocks: false leaves out the required allowed-clocks */
static int load_dt(const char *bpmp_compat, size_t compat_len,
		   bool with_clocks)
{
	static const char proxy_compat[] = "nvidia,bpmp-host-proxy";
	static uint8_t blob[8192];
	const uint32_t phandle = 1;
	struct fdt f = { .n_st = 0 };
	uint32_t hdr[10];
	size_t total;

	fdt_begin(&f, "");
	fdt_begin(&f, "bpmp");
	fdt_prop(&f, "compatible", bpmp_compat, compat_len);
	fdt_u32s(&f, "phandle", &phandle, 1);
	fdt_word(&f, 2);
	fdt_begin(&f, "bpmp-host-proxy");
	fdt_prop(&f, "compatible", proxy_compat, sizeof(proxy_compat));
	fdt_u32s(&f, "nvidia,bpmp", &phandle, 1);
	if (with_clocks)
		fdt_u32s(&f, "allowed-clocks", dt_clocks, N(dt_clocks));
	fdt_u32s(&f, "allowed-resets", dt_resets, N(dt_resets));
	fdt_u32s(&f, "allowed-power-domains", dt_pds, N(dt_pds));
	fdt_u32s(&f, "allowed-parent-clocks", dt_parents, N(dt_parents));
	fdt_word(&f, 2);
	fdt_word(&f, 2);
	fdt_word(&f, 9);

	/* header, empty memory reservation map, structure, strings */
	total = 40 + 16 + f.n_st + f.n_str;
	hdr[0] = htobe32(0xd00dfeed);
	hdr[1] = htobe32(total);
	hdr[2] = htobe32(56);
	hdr[3] = htobe32(56 + f.n_st);
	hdr[4] = htobe32(40);
	hdr[5] = htobe32(17);
	hdr[6] = htobe32(16);
	hdr[7] = 0;
	hdr[8] = htobe32(f.n_str);
	hdr[9] = htobe32(f.n_st);
	memset(blob, 0, sizeof(blob));
	memcpy(blob, hdr, 40);
	memcpy(blob + 56, f.st, f.n_st);
	memcpy(blob + 56 + f.n_st, f.str, f.n_str);
	return write_buf(GLUE "dt", blob, total);
}

static const char t234[] = "nvidia,tegra234-bpmp\0nvidia,tegra186-bpmp";

static bool bound(void)
{
	return atoi(read_str(GLUE "bound")) == 1;
}

/* the proxy */

static int open_dev(void)
{
	int fd = open(DEV, O_RDWR);

	if (fd < 0)
		bail("open " DEV);
	return fd;
}

static int xfer_raw(int fd, struct tegra_bpmp_host_xfer *x)
{
	return ioctl(fd, TEGRA_BPMP_HOST_IOC_XFER, x) ? errno : 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* one request of up to three words; returns 0 or the errno */
static int xfer(int fd, uint32_t mrq, unsigned int words, uint32_t w0,
		uint32_t w1, uint32_t w2, uint32_t rx_size,
		struct tegra_bpmp_host_xfer *out)
{
	struct tegra_bpmp_host_xfer x;

	memset(&x, 0, sizeof(x));
	x.mrq = mrq;
	x.tx_size = 4 * words;
	x.rx_size = rx_size;
	put32(x.tx, w0);
	put32(x.tx + 4, w1);
	put32(x.tx + 8, w2);
	/* whatever the caller's buffer held must not come back */
	memset(x.rx, 0x5a, sizeof(x.rx));
	if (out) {
		int err = xfer_raw(fd, &x);

		*out = x;
		return err;
	}
	return xfer_raw(fd, &x);
}

static int clk(int fd, uint32_t cmd, uint32_t id)
{
	struct tegra_bpmp_host_xfer x;
	int err = xfer(fd, MRQ_CLK, 1, cmd << 24 | id, 0, 0, 120, &x);

	return err ? err : x.ret ? 1000 : 0;
}

static int reset(int fd, uint32_t cmd, uint32_t id)
{
	return xfer(fd, MRQ_RESET, 2, cmd, id, 0, 120, NULL);
}

static int pg_set(int fd, uint32_t id, uint32_t state)
{
	return xfer(fd, MRQ_PG, 3, PG_SET_STATE, id, state, 120, NULL);
}

static int restrict_ids(int fd, uint32_t kind, const uint32_t *ids,
			uint32_t count)
{
	struct tegra_bpmp_host_ids r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.count = count;
	if (count <= TEGRA_BPMP_HOST_MAX_IDS)
		memcpy(r.ids, ids, 4 * count);
	return ioctl(fd, TEGRA_BPMP_HOST_IOC_RESTRICT, &r) ? errno : 0;
}

/* the file's set of @kind as "a b c" */
static const char *get_ids(int fd, uint32_t kind)
{
	static char out[4096];
	struct tegra_bpmp_host_ids r;
	size_t len = 0;
	uint32_t i;

	memset(&r, 0xff, sizeof(r));
	r.kind = kind;
	r.flags = 0;
	r.reserved = 0;
	if (ioctl(fd, TEGRA_BPMP_HOST_IOC_GET_IDS, &r))
		return strerror(errno);
	out[0] = 0;
	for (i = 0; i < r.count && i < TEGRA_BPMP_HOST_MAX_IDS; i++)
		len += snprintf(out + len, sizeof(out) - len, "%s%u",
				i ? " " : "", r.ids[i]);
	for (; i < TEGRA_BPMP_HOST_MAX_IDS; i++)
		if (r.ids[i])
			return "non-zero past count";
	return out;
}

static bool zero_from(const uint8_t *p, size_t from, size_t len)
{
	for (; from < len; from++)
		if (p[from])
			return false;
	return true;
}

static bool has_stale(const uint8_t *p, size_t len)
{
	while (len--)
		if (p[len] == STALE)
			return true;
	return false;
}

static void set_active_all(void)
{
	static const char *const kinds[] = { "clocks", "resets",
		"power_domains", "parent_clocks" };
	char path[128];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), PROXY "active_%s", kinds[i]);
		must(write_str(path, "all"), path);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* wait (up to 2 s) until @n transfers are in flight; false if not */
static bool wait_inflight(int n)
{
	int i;

	for (i = 0; i < 200 && state_num("inflight") != n; i++)
		usleep(10000);
	return state_num("inflight") == n;
}

/*
 * Fork a child that sends CLK GET_RATE of @clock on @fd, which the
 * simulated BPMP holds for @ms milliseconds; returns once it is in flight
 * with @already others (or after 2 s), with *@inflight telling which.
 */
static pid_t slow_transfer_ms(int fd, uint32_t clock, unsigned int ms,
			      int already, bool *inflight)
{
	char delay[32];
	pid_t pid;

	snprintf(delay, sizeof(delay), "delay %u 1", ms);
	must(write_str(GLUE "fail", delay), "delay");
	pid = fork();
	if (pid == 0)
		_exit(clk(fd, CLK_GET_RATE, clock) ? 1 : 0);
	*inflight = wait_inflight(already + 1);
	return pid;
}

static pid_t slow_transfer(int fd, uint32_t clock, bool *inflight)
{
	return slow_transfer_ms(fd, clock, 800, 0, inflight);
}

/*
 * Release @fd (its only descriptor, which enabled something) in a child
 * whose undo the simulated BPMP holds for @ms milliseconds; returns once
 * that undo is in flight (or after 2 s), with *@inflight telling which.
 */
static pid_t slow_release(int fd, unsigned int ms, bool *inflight)
{
	char delay[32], c;
	int p[2];
	pid_t pid;

	if (pipe(p))
		bail("pipe");
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		/* until the parent has closed its descriptor: ours is the last */
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		close(fd);
		_exit(0);
	}
	close(p[0]);
	close(fd);
	snprintf(delay, sizeof(delay), "delay %u 1", ms);
	must(write_str(GLUE "fail", delay), "delay");
	close(p[1]);
	*inflight = wait_inflight(1);
	return pid;
}

static bool child_ok(pid_t pid)
{
	int status = -1;

	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* the cases */

static void test_probe(void)
{
	struct stat st;
	int fd;

	ok(bound(), "the proxy probes from a device tree with a tegra234 BPMP");
	ok(stat(DEV, &st) == 0 && S_ISCHR(st.st_mode), DEV " exists");
	ok(!strcmp(read_str(PROXY "allowed_clocks"), "10 11 12 20 21 102\n"),
	   "allowed_clocks lists the DT ceiling");
	ok(state_num("refs") == 1, "the proxy holds one BPMP reference");
	ok(!strcmp(read_str(PROXY "active_clocks"), "\n"),
	   "active_clocks is empty until written");
	fd = open_dev();
	clear_log();
	ok(clk(fd, CLK_ENABLE, 10) == EPERM && log_count() == 0,
	   "before the active sets are written every request is denied");
	close(fd);
	set_active_all();
	ok(!strcmp(read_str(PROXY "active_clocks"), "10 11 12 20 21 102\n"),
	   "active_clocks \"all\" restores the ceiling");
}

static void test_basics(void)
{
	struct tegra_bpmp_host_version v;
	char c;
	int fd = open_dev();

	memset(&v, 0xff, sizeof(v));
	ok(ioctl(fd, TEGRA_BPMP_HOST_IOC_VERSION, &v) == 0 &&
	   v.version == TEGRA_BPMP_HOST_ABI_VERSION && v.max_data == 120 &&
	   v.max_ids == 256 && v.nr_kinds == 4 && !v.reserved[0] &&
	   !v.reserved[1], "VERSION: 1, 120, 256, 4, reserved 0");
	ok(write(fd, "x", 1) < 0 && errno == EINVAL, "write() fails EINVAL");
	ok(read(fd, &c, 1) == 0, "read() returns 0");
	ok(ioctl(fd, _IOWR(TEGRA_BPMP_HOST_IOC_MAGIC, 0x7f, int), &c) < 0 &&
	   errno == ENOTTY, "an unknown ioctl fails ENOTTY");
	close(fd);
}

static void test_xfer_bounds(void)
{
	struct tegra_bpmp_host_xfer x, ping;
	int fd = open_dev();

	memset(&ping, 0, sizeof(ping));
	ping.mrq = MRQ_PING;
	ping.tx_size = 4;
	ping.rx_size = 4;
	put32(ping.tx, 21);
	clear_log();

	x = ping;
	ok(xfer_raw(fd, &x) == 0 && x.ret == 0 && get32(x.rx) == 42,
	   "a PING is answered");
	x = ping;
	x.flags = 1;
	ok(xfer_raw(fd, &x) == EINVAL, "XFER flags != 0: EINVAL");
	x = ping;
	x.reserved0 = 1;
	ok(xfer_raw(fd, &x) == EINVAL, "XFER reserved0 != 0: EINVAL");
	x = ping;
	x.reserved1 = 1ULL << 63;
	ok(xfer_raw(fd, &x) == EINVAL, "XFER reserved1 != 0: EINVAL");
	x = ping;
	x.tx_size = 121;
	ok(xfer_raw(fd, &x) == EINVAL, "XFER tx_size 121: EINVAL");
	x = ping;
	x.tx_size = 0xffffffff;
	ok(xfer_raw(fd, &x) == EINVAL, "XFER tx_size 2^32-1: EINVAL");
	x = ping;
	x.rx_size = 121;
	ok(xfer_raw(fd, &x) == EINVAL, "XFER rx_size 121 (a valid PING otherwise): EINVAL");
	x = ping;
	x.rx_size = 0x80000000;
	ok(xfer_raw(fd, &x) == EINVAL, "XFER rx_size 2^31: EINVAL");
	x = ping;
	x.tx_size = 5;
	ok(xfer_raw(fd, &x) == EINVAL, "a PING of 5 bytes (not its exact size): EINVAL");
	ok(log_count() == 1, "only the valid PING reached the BPMP (%d transfers)",
	   log_count());
	ok(ioctl(fd, TEGRA_BPMP_HOST_IOC_XFER, NULL) < 0 && errno == EFAULT,
	   "XFER with a NULL argument: EFAULT");
	close(fd);
}

static void test_reply(void)
{
	struct tegra_bpmp_host_xfer x;
	struct record r;
	int fd = open_dev(), err;

	/*
	 * The simulated frame holds stale bytes past every reply; the
	 * caller's rx[] holds 0x5a; the kernel stack below the ioctl holds
	 * 0xa5 (paint): none of it may reach the BPMP's rx buffer or come
	 * back to the caller.
	 */
	clear_log();
	must(write_str(GLUE "paint", "1"), "paint");
	err = xfer(fd, MRQ_PING, 1, 0x100, 0, 0, 120, &x);
	ok(!err && x.ret == 0 && x.rx_size == 4 && get32(x.rx) == 0x200,
	   "PING with rx_size 120: 4 bytes of reply (rx_size %u)", x.rx_size);
	ok(!err && zero_from(x.rx, 4, 120), "PING: rx[] is zero past the reply");
	ok(log_record(-1, &r) && r.rx_size == 4,
	   "PING: the BPMP was asked for 4 bytes, not 120 (%u)", r.rx_size);
	ok(log_record(-1, &r) && r.rx_zero,
	   "PING: the rx buffer handed to the BPMP was zeroed");

	/* twice: the second call's buffer is where the first's stale bytes are */
	err = xfer(fd, MRQ_CLK, 1, CLK_GET_ALL_INFO << 24 | 10, 0, 0, 120, &x);
	err = err ? err : xfer(fd, MRQ_CLK, 1, CLK_GET_ALL_INFO << 24 | 10, 0, 0, 120, &x);
	ok(!err && x.rx_size == CLK_ALL_INFO_SIZE && !has_stale(x.rx, 120) &&
	   zero_from(x.rx, CLK_ALL_INFO_SIZE, 120),
	   "CLK GET_ALL_INFO: %u bytes of reply, no stale byte, zero past it",
	   CLK_ALL_INFO_SIZE);
	ok(log_record(-1, &r) && r.rx_zero,
	   "CLK GET_ALL_INFO: the rx buffer handed to the BPMP was zeroed");

	err = xfer(fd, MRQ_CLK, 1, CLK_GET_RATE << 24 | 10, 0, 0, 120, &x);
	ok(!err && x.rx_size == 8 && !has_stale(x.rx, 120) && zero_from(x.rx, 8, 120),
	   "CLK GET_RATE: 8 bytes, no stale byte (rx_size %u)", x.rx_size);
	err = xfer(fd, MRQ_CLK, 1, CLK_GET_RATE << 24 | 10, 0, 0, 4, &x);
	ok(!err && x.rx_size == 4 && zero_from(x.rx, 4, 120) &&
	   log_record(-1, &r) && r.rx_size == 4,
	   "CLK GET_RATE with rx_size 4: the BPMP fills 4 bytes, 4 come back");
	err = xfer(fd, MRQ_CLK, 1, CLK_ENABLE << 24 | 10, 0, 0, 120, &x);
	ok(!err && x.rx_size == 0 && zero_from(x.rx, 0, 120),
	   "CLK ENABLE: no reply bytes, rx[] all zero (rx_size %u)", x.rx_size);
	err = xfer(fd, MRQ_CLK, 1, CLK_IS_ENABLED << 24 | 10, 0, 0, 120, &x);
	ok(!err && x.rx_size == 4 && get32(x.rx) == 1 && zero_from(x.rx, 4, 120),
	   "CLK IS_ENABLED: 4 bytes, enabled");
	err = xfer(fd, MRQ_PG, 2, PG_GET_STATE, 3, 0, 120, &x);
	ok(!err && x.rx_size == 4 && !has_stale(x.rx, 120),
	   "PG GET_STATE: 4 bytes, no stale byte (rx_size %u)", x.rx_size);
	ok(clk(fd, CLK_DISABLE, 10) == 0, "CLK DISABLE");

	must(write_str(GLUE "fail", "errno 110 1"), "fail");
	ok(xfer(fd, MRQ_PING, 1, 1, 0, 0, 4, NULL) == ETIMEDOUT,
	   "a transport error of the BPMP comes back as errno (ETIMEDOUT)");
	must(write_str(GLUE "fail", "ret -22 1"), "fail");
	err = xfer(fd, MRQ_PING, 1, 1, 0, 0, 4, &x);
	ok(!err && x.ret == -22, "a firmware error comes back in ret (%d)", x.ret);
	close(fd);
}

static void test_denied(void)
{
	int fd = open_dev();

	clear_log();
	ok(clk(fd, CLK_ENABLE, 99) == EPERM, "CLK ENABLE of a clock outside the ceiling: EPERM");
	ok(reset(fd, RESET_ASSERT, 8) == EPERM, "RESET ASSERT outside the ceiling: EPERM");
	ok(pg_set(fd, 9, 1) == EPERM, "PG ON outside the ceiling: EPERM");
	ok(clk(fd, CLK_DISABLE, 102) == EPERM, "CLK DISABLE of a protected root: EPERM");
	ok(clk(fd, CLK_DISABLE, 30) == EPERM, "CLK DISABLE of a parent-only clock: EPERM");
	ok(log_count() == 0, "no denied request reached the BPMP");
	ok(clk(fd, CLK_ENABLE, 30) == 0, "CLK ENABLE of a parent clock is allowed");
	ok(clk(fd, CLK_ENABLE, 102) == 0, "CLK ENABLE of an allowed protected root is allowed");
	clear_log();
	close(fd);
	ok(state_has("clocks_on", 30) && state_has("clocks_on", 102) && log_count() == 0,
	   "closing the file leaves the parent clock and the root on (shared with the host)");
	must(write_str(GLUE "state", "reset"), "reset the state");
}

static void test_restrict(void)
{
	const uint32_t two[] = { 11, 10, 11 }, other[] = { 10, 12 };
	struct tegra_bpmp_host_ids r;
	int fd = open_dev();

	ok(!strcmp(get_ids(fd, TEGRA_BPMP_HOST_CLOCKS), "10 11 12 20 21 102"),
	   "a fresh file's clocks are the ceiling");
	ok(!strcmp(get_ids(fd, TEGRA_BPMP_HOST_POWER_DOMAINS), "3 4"),
	   "a fresh file's power domains are the ceiling");
	ok(restrict_ids(fd, TEGRA_BPMP_HOST_CLOCKS, two, 3) == 0 &&
	   !strcmp(get_ids(fd, TEGRA_BPMP_HOST_CLOCKS), "10 11"),
	   "RESTRICT clocks to 11 10 11: 10 11 (ceiling order, no repeats)");
	ok(restrict_ids(fd, TEGRA_BPMP_HOST_CLOCKS, other, 2) == EPERM &&
	   !strcmp(get_ids(fd, TEGRA_BPMP_HOST_CLOCKS), "10 11"),
	   "RESTRICT cannot widen (12 is not in the set): EPERM, nothing changes");
	ok(restrict_ids(fd, 4, two, 1) == EINVAL, "RESTRICT kind 4: EINVAL");
	ok(restrict_ids(fd, TEGRA_BPMP_HOST_CLOCKS, two, 257) == EINVAL,
	   "RESTRICT count 257: EINVAL");
	memset(&r, 0, sizeof(r));
	r.kind = TEGRA_BPMP_HOST_CLOCKS;
	r.count = 1;
	r.ids[0] = 10;
	r.flags = 1;
	ok(ioctl(fd, TEGRA_BPMP_HOST_IOC_RESTRICT, &r) < 0 && errno == EINVAL,
	   "RESTRICT flags != 0: EINVAL");
	r.flags = 0;
	r.reserved = 1;
	ok(ioctl(fd, TEGRA_BPMP_HOST_IOC_RESTRICT, &r) < 0 && errno == EINVAL,
	   "RESTRICT reserved != 0: EINVAL");
	ok(!strcmp(get_ids(fd, TEGRA_BPMP_HOST_CLOCKS), "10 11"),
	   "the refused RESTRICTs changed nothing");
	ok(clk(fd, CLK_ENABLE, 12) == EPERM && clk(fd, CLK_ENABLE, 11) == 0 &&
	   clk(fd, CLK_DISABLE, 11) == 0,
	   "the file may use 11, not 12 any more");
	ok(restrict_ids(fd, TEGRA_BPMP_HOST_RESETS, two, 0) == 0 &&
	   !strcmp(get_ids(fd, TEGRA_BPMP_HOST_RESETS), "") &&
	   reset(fd, RESET_ASSERT, 5) == EPERM,
	   "RESTRICT count 0 empties the set");
	close(fd);
}

/* narrow @fd to one domain's clocks, resets, power domains, no parents */
static bool narrow(int fd, uint32_t c0, uint32_t c1, uint32_t rst, uint32_t pd)
{
	const uint32_t c[] = { c0, c1 };

	return !restrict_ids(fd, TEGRA_BPMP_HOST_CLOCKS, c, 2) &&
	       !restrict_ids(fd, TEGRA_BPMP_HOST_RESETS, &rst, 1) &&
	       !restrict_ids(fd, TEGRA_BPMP_HOST_POWER_DOMAINS, &pd, 1) &&
	       !restrict_ids(fd, TEGRA_BPMP_HOST_PARENT_CLOCKS, NULL, 0);
}

static void test_isolation(void)
{
	int a = open_dev(), b = open_dev(), a2, c, n;
	bool a_on, b_on, failed_ok;
	struct record r;

	must(write_str(GLUE "state", "reset"), "reset the state");
	ok(narrow(a, 10, 11, 5, 3) && narrow(b, 20, 21, 6, 4),
	   "file A narrowed to clocks 10 11, reset 5, power domain 3; B to 20 21, 6, 4");
	clear_log();
	ok(clk(a, CLK_ENABLE, 20) == EPERM && clk(a, CLK_DISABLE, 21) == EPERM &&
	   reset(a, RESET_ASSERT, 6) == EPERM && pg_set(a, 4, 0) == EPERM,
	   "A cannot touch B's clocks, reset or power domain");
	ok(clk(b, CLK_ENABLE, 10) == EPERM && reset(b, RESET_ASSERT, 5) == EPERM &&
	   pg_set(b, 3, 1) == EPERM, "B cannot touch A's");
	ok(log_count() == 0, "none of that reached the BPMP");
	a_on = clk(a, CLK_ENABLE, 10) == 0 && reset(a, RESET_ASSERT, 5) == 0 &&
	       pg_set(a, 3, 1) == 0;
	ok(a_on, "A enables 10, asserts 5, powers 3 on");
	b_on = clk(b, CLK_ENABLE, 20) == 0 && clk(b, CLK_ENABLE, 21) == 0 &&
	       reset(b, RESET_ASSERT, 6) == 0 && pg_set(b, 4, 2) == 0 &&
	       clk(b, CLK_DISABLE, 21) == 0;
	ok(b_on, "B enables 20 and 21, asserts 6, powers 4 on (RUNNING), disables 21 again");

	a2 = dup(a);
	close(a);
	a_on = a_on && state_has("clocks_on", 10) &&
	       state_has("resets_asserted", 5) && state_has("power_domains_on", 3);
	ok(a_on,
	   "closing one of two descriptors of A's file undoes nothing");
	clear_log();
	close(a2);
	ok(a_on && !state_has("clocks_on", 10) &&
	   !state_has("resets_asserted", 5) && !state_has("power_domains_on", 3),
	   "releasing A's file disabled 10, deasserted 5, powered 3 off");
	ok(b_on && state_has("clocks_on", 20) && state_has("resets_asserted", 6) &&
	   state_has("power_domains_on", 4), "but left B's resources alone");
	n = log_count();
	ok(n == 3 && log_record(0, &r) && r.mrq == MRQ_CLK &&
	   log_record(1, &r) && r.mrq == MRQ_RESET && log_record(2, &r) &&
	   r.mrq == MRQ_PG, "undo order: clocks, resets, power domains (%d transfers)", n);
	clear_log();
	close(b);
	ok(b_on && !strcmp(state_of("clocks_on"), " ") &&
	   !strcmp(state_of("resets_asserted"), " ") &&
	   !strcmp(state_of("power_domains_on"), " "),
	   "releasing B's file undid B's (nothing left on)");
	ok(b_on && log_count() == 3, "B's release sent 3 requests, not one for the clock B disabled itself (%d)",
	   log_count());

	/* marks only for what the firmware did */
	c = open_dev();
	must(write_str(GLUE "fail", "ret -22 1"), "fail");
	failed_ok = clk(c, CLK_ENABLE, 11) == 1000;
	ok(failed_ok, "an ENABLE the firmware refuses (ret -22)");
	must(write_str(GLUE "fail", "errno 110 1"), "fail");
	failed_ok = reset(c, RESET_ASSERT, 7) == ETIMEDOUT && failed_ok;
	ok(failed_ok, "an ASSERT that times out");
	clear_log();
	close(c);
	ok(failed_ok && log_count() == 0, "release sends nothing for requests that failed (%d)",
	   log_count());
}

static void test_global_ceiling(void)
{
	int fd = open_dev();

	must(write_str(PROXY "active_clocks", "10"), "active_clocks 10");
	ok(!strcmp(read_str(PROXY "active_clocks"), "10\n"), "active_clocks narrowed to 10");
	ok(clk(fd, CLK_ENABLE, 11) == EPERM, "a fresh file cannot use 11: the global set bounds it");
	ok(clk(fd, CLK_ENABLE, 10) == 0 && clk(fd, CLK_DISABLE, 10) == 0,
	   "but can use 10");
	ok(write_str(PROXY "active_clocks", "99") == -EINVAL,
	   "active_clocks outside the ceiling: EINVAL");
	set_active_all();
	ok(clk(fd, CLK_ENABLE, 11) == 0 && clk(fd, CLK_DISABLE, 11) == 0,
	   "after \"all\" 11 is usable again by the same file");
	close(fd);
}

static void test_narrow_waits(void)
{
	const uint32_t ten = 10;
	bool inflight;
	double t0, t;
	int fd = open_dev();
	pid_t pid;

	pid = slow_transfer(fd, 11, &inflight);
	ok(inflight, "a slow transfer is in flight");
	t0 = now();
	must(write_str(PROXY "active_clocks", "10"), "active_clocks 10");
	t = now() - t0;
	ok(inflight && state_num("inflight") == 0,
	   "narrowing the global set returned only after it finished (%.2f s)", t);
	ok(child_ok(pid), "the transfer checked against the old set succeeded");
	set_active_all();

	/* a file's RESTRICT and its transfers are serialized */
	pid = slow_transfer(fd, 11, &inflight);
	ok(inflight && restrict_ids(fd, TEGRA_BPMP_HOST_CLOCKS, &ten, 1) == 0 &&
	   state_num("inflight") == 0,
	   "RESTRICT on a file returned only after the file's transfer in flight finished");
	ok(child_ok(pid), "that transfer (checked before the RESTRICT) succeeded");
	ok(clk(fd, CLK_GET_RATE, 11) == EPERM, "the next one sees the narrowed set");
	close(fd);
}

static void test_no_capability(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const uint32_t ten = 10;
	int fd = open_dev(), err = 0;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		/* uid 0 still opens the 0644 attribute; the driver checks the capability */
		if (syscall(SYS_capget, &h, d) ||
		    (d[0].effective = d[1].effective = 0, syscall(SYS_capset, &h, d)))
			_exit(1);
		if (write_str(PROXY "active_clocks", "10") != -EPERM)
			_exit(2);
		if (restrict_ids(fd, TEGRA_BPMP_HOST_CLOCKS, &ten, 1) ||
		    clk(fd, CLK_GET_RATE, 10) || clk(fd, CLK_GET_RATE, 11) != EPERM)
			_exit(3);
		_exit(0);
	}
	waitpid(pid, &err, 0);
	ok(WIFEXITED(err) && WEXITSTATUS(err) == 0,
	   "without CAP_SYS_ADMIN: active_* writes fail EPERM, RESTRICT and XFER work (status %d)",
	   WIFEXITED(err) ? WEXITSTATUS(err) : -1);
	ok(!strcmp(read_str(PROXY "active_clocks"), "10 11 12 20 21 102\n"),
	   "the refused write changed nothing");
	close(fd);
}

static void test_efault(void)
{
	int fd = open_dev();

	ok(ioctl(fd, TEGRA_BPMP_HOST_IOC_VERSION, NULL) < 0 && errno == EFAULT &&
	   ioctl(fd, TEGRA_BPMP_HOST_IOC_RESTRICT, NULL) < 0 && errno == EFAULT &&
	   ioctl(fd, TEGRA_BPMP_HOST_IOC_GET_IDS, NULL) < 0 && errno == EFAULT,
	   "VERSION, RESTRICT and GET_IDS with a NULL argument: EFAULT");
	close(fd);
}

static void test_rate_limit(void)
{
	int fd, i, err = 0;

	if (access(PARAMS "rate_limit", W_OK) || access(PARAMS "rate_burst", W_OK)) {
		ok(false, "module parameters rate_limit and rate_burst are writable");
		return;
	}
	must(write_str(PARAMS "rate_limit", "1"), "rate_limit");
	must(write_str(PARAMS "rate_burst", "3"), "rate_burst");
	fd = open_dev();
	for (i = 0; i < 3 && !err; i++)
		err = xfer(fd, MRQ_PING, 1, 1, 0, 0, 4, NULL);
	ok(!err, "rate 1/s, burst 3: three transfers pass");
	ok(xfer(fd, MRQ_PING, 1, 1, 0, 0, 4, NULL) == EAGAIN,
	   "the fourth fails EAGAIN");
	close(fd);
	must(write_str(PARAMS "rate_limit", "0"), "rate_limit");
	fd = open_dev();
	for (i = 0; i < 50 && !err; i++)
		err = xfer(fd, MRQ_PING, 1, 1, 0, 0, 4, NULL);
	ok(!err, "rate_limit 0: unlimited (50 transfers)");
	close(fd);
	must(write_str(PARAMS "rate_limit", "2000"), "rate_limit");
	must(write_str(PARAMS "rate_burst", "4096"), "rate_burst");
}

/* the log record @i is the undo request @mrq with the words @w0 @w1 @w2 */
static bool log_is_undo(int i, uint32_t mrq, unsigned int words, uint32_t w0,
			uint32_t w1, uint32_t w2)
{
	uint32_t w[3] = { htole32(w0), htole32(w1), htole32(w2) };
	char hex[32];
	struct record r;
	unsigned int k;

	for (k = 0; k < 4 * words; k++)
		snprintf(hex + 2 * k, 3, "%02x", ((const uint8_t *)w)[k]);
	hex[2 * words * 4] = 0;
	return log_record(i, &r) && r.mrq == mrq && r.tx_size == 4 * words &&
	       !strcmp(r.tx, hex) && !r.err && !r.after_put;
}

static void test_unbind(void)
{
	int fd = open_dev(), slow = open_dev(), dying = open_dev(), err, i, n;
	bool on, inflight, undoing, late = false;
	struct record r;
	struct stat st;
	pid_t pid, dying_pid;

	must(write_str(GLUE "state", "reset"), "reset the state");
	/* and the shared ones, which no undo may touch */
	on = clk(fd, CLK_ENABLE, 12) == 0 && reset(fd, RESET_ASSERT, 7) == 0 &&
	     pg_set(fd, 4, 1) == 0 && clk(fd, CLK_ENABLE, 102) == 0 &&
	     clk(fd, CLK_ENABLE, 30) == 0;
	ok(on, "an open file enables 12, asserts 7, powers 4 on, enables root 102 and parent 30");
	on = clk(dying, CLK_ENABLE, 11) == 0 && on;
	clear_log();
	/*
	 * In flight while unbinding: a release's undo (3 s), then a
	 * transfer (0.3 s) of a file that stays open. The undo at unbind
	 * takes each open file's lock, which waits for the latter; only the
	 * unbind rwsem waits for the former.
	 */
	dying_pid = slow_release(dying, 3000, &undoing);
	pid = slow_transfer_ms(slow, 10, 300, 1, &inflight);
	inflight = inflight && undoing;
	ok(inflight && write_str(DRIVER "unbind", "bpmp-host-proxy") == 0 && !bound(),
	   "unbind the proxy with files open, a transfer and a release's undo in flight");
	ok(inflight && state_num("inflight") == 0,
	   "unbinding returned only after the transfers in flight finished (a transfer, a release's undo)");
	ok(child_ok(pid) && child_ok(dying_pid), "that transfer succeeded, that release finished");
	n = log_count();
	for (i = 0; i < n; i++)
		late = late || (log_record(i, &r) && r.after_put);
	ok(n >= 1 && !late, "no transfer ran after the BPMP reference was dropped");
	ok(on && !state_has("clocks_on", 11), "the release in flight disabled 11");
	ok(on && !state_has("clocks_on", 12) &&
	   !state_has("resets_asserted", 7) && !state_has("power_domains_on", 4),
	   "unbinding undid the open file's marks: 12 disabled, 7 deasserted, 4 powered off");
	ok(on && state_has("clocks_on", 102) && state_has("clocks_on", 30),
	   "but left the protected root 102 and the parent clock 30 on");
	/* the release's undo, the slow transfer, then exactly the file's undo, in order */
	ok(on && n == 5 && log_is_undo(0, MRQ_CLK, 1, CLK_DISABLE << 24 | 11, 0, 0) &&
	   log_is_undo(2, MRQ_CLK, 1, CLK_DISABLE << 24 | 12, 0, 0) &&
	   log_is_undo(3, MRQ_RESET, 2, RESET_DEASSERT, 7, 0) &&
	   log_is_undo(4, MRQ_PG, 3, PG_SET_STATE, 4, 0),
	   "unbind sent CLK DISABLE 12, RESET DEASSERT 7, PG OFF 4, once each (%d transfers)",
	   n);
	clear_log();
	close(slow);
	ok(state_num("refs") == 0, "the proxy dropped its BPMP reference");
	err = xfer(fd, MRQ_PING, 1, 1, 0, 0, 4, NULL);
	ok(err == ENODEV, "XFER after unbind: ENODEV (%s)", strerror(err));
	ok(stat(DEV, &st) != 0, DEV " is gone");
	close(fd);
	ok(on && log_count() == 0,
	   "nothing reached the BPMP after unbind: closing the files sent no second undo (%d)",
	   log_count());
	ok(write_str(DRIVER "bind", "bpmp-host-proxy") == 0 && bound() &&
	   !strcmp(read_str(PROXY "active_clocks"), "\n"),
	   "bind again: active sets empty");
	set_active_all();
	must(write_str(GLUE "state", "reset"), "reset the state");
}

static void test_probe_failures(void)
{
	static const char t186[] = "nvidia,tegra186-bpmp";
	int fd = open_dev();
	bool on = clk(fd, CLK_ENABLE, 11) == 0;

	clear_log();
	/* the device goes away under an open file (its proxy must outlive it) */
	ok(on && write_str(GLUE "remove", "1") == 0 && !bound(),
	   "remove the proxy's device with a file open (that enabled 11)");
	ok(on && !state_has("clocks_on", 11) && log_count() == 1 &&
	   log_is_undo(0, MRQ_CLK, 1, CLK_DISABLE << 24 | 11, 0, 0),
	   "removing the device disabled 11 for the open file (%d transfers)",
	   log_count());
	ok(xfer(fd, MRQ_PING, 1, 1, 0, 0, 4, NULL) == ENODEV,
	   "XFER after the device is gone: ENODEV");
	clear_log();
	close(fd);
	ok(log_count() == 0 && state_num("refs") == 0,
	   "closing it afterwards sends nothing; no BPMP reference is left");
	must(write_str(GLUE "state", "reset"), "reset the state");

	ok(load_dt(t186, sizeof(t186), true) == 0 && !bound() &&
	   state_num("refs") == 0,
	   "a BPMP that is not a tegra234's: no probe, reference dropped");
	must(write_str(GLUE "remove", "1"), "remove");
	ok(load_dt(t234, sizeof(t234), false) == 0 && !bound(),
	   "no allowed-clocks: no probe");
	must(write_str(GLUE "remove", "1"), "remove");
	ok(load_dt(t234, sizeof(t234), true) == 0 && bound(), "probes again");
}

int main(int argc, char **argv)
{
	if (argc > 1)
		label = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(GLUE "dt", W_OK))
		bail(GLUE "dt (is bpmp-host-glue loaded, debugfs mounted?)");
	write_str(GLUE "remove", "1");
	if (load_dt(t234, sizeof(t234), true))
		bail("load the device tree");
	if (!bound())
		diag("the proxy did not probe; see dmesg");

	test_probe();
	test_basics();
	test_xfer_bounds();
	test_reply();
	test_denied();
	test_restrict();
	test_isolation();
	test_global_ceiling();
	test_narrow_waits();
	test_no_capability();
	test_efault();
	test_rate_limit();
	test_unbind();
	test_probe_failures();

	write_str(GLUE "remove", "1");
	diag("bpmp-glue-test: %s%d of %d failed", label, failures, tests);
	return failures ? 1 : 0;
}
