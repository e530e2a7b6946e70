// SPDX-License-Identifier: GPL-2.0-or-later
#include "domain-dtb.h"
#include "domain-xml-internal.h"
#include "guest-dtb.h"
#include "qemu-argv.h"
#include "qemu-caps.h"
#include "tv-fileio.h"
#include "tv-limits.h"
#include "tv-log.h"
#include "tv-names.h"
#include "tv-validate.h"
#include "xml-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUMPDTB_TIMEOUT_MS 30000
#define DTB_MAX_BYTES (2 * 1024 * 1024)
/* beside the DTB (TV_DOMAIN_DTB_PATH_FMT): printf(fmt, state_dir, domain) */
#define FINGERPRINT_PATH_FMT "%s/" TV_DOMAIN_DTB_DIR "/%s.fingerprint"

/* The text of element n, as written (NULL when n is absent or out of memory). */
static char *text_of(xmlNodePtr n)
{
        return n ? tv_xml_content(n, false) : NULL;
}

/* A token we pass to QEMU: no commas (QEMU option syntax), no spaces or control chars. */
static bool qemu_token_ok(const char *s)
{
        if (!s || !*s || strlen(s) > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr("._-", *s)))
                        return false;
        return true;
}

static int memory_mib(xmlNodePtr mem, unsigned long long *mib)
{
        char *text = text_of(mem), *unit = tv_xml_attr(mem, "unit"), *end = NULL;
        unsigned long long v, scale_kib = 1;
        int r = -EINVAL;

        if (!text)
                goto out;
        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno || end == text || *end)
                goto out;
        if (!unit || strcasecmp(unit, "KiB") == 0 || strcasecmp(unit, "k") == 0)
                scale_kib = 1;
        else if (strcasecmp(unit, "MiB") == 0 || strcasecmp(unit, "M") == 0)
                scale_kib = 1024;
        else if (strcasecmp(unit, "GiB") == 0 || strcasecmp(unit, "G") == 0)
                scale_kib = 1024 * 1024;
        else
                goto out;
        if (v > (1ULL << 40) / scale_kib)
                goto out;
        *mib = v * scale_kib / 1024;
        r = *mib > 0 ? 0 : -EINVAL;
out:
        free(text);
        free(unit);
        return r;
}

/* Appends " key=value" to *s (attr values of n, "-" when absent); false on OOM. */
static bool shape_add(char **s, const char *key, xmlNodePtr n, const char *const *attrs)
{
        char *ns = NULL;

        for (const char *const *a = attrs; *a; a++) {
                char *v = tv_xml_attr(n, *a);
                int r = asprintf(&ns, "%s %s.%s=%s", *s, key, *a, v ? v : "-");

                free(v);
                free(*s);
                *s = r < 0 ? NULL : ns;
                if (!*s)
                        return false;
        }
        return true;
}

/* What else the domain XML says that shapes QEMU's tree: -smp topology, ACPI, IOMMUs, NUMA. */
static char *machine_shape(xmlNodePtr root, xmlNodePtr cpu, xmlNodePtr vcpu)
{
        static const char *const topo[] = { "sockets", "dies", "clusters", "cores", "threads", NULL };
        static const char *const current[] = { "current", NULL };
        static const char *const model[] = { "model", NULL };
        static const char *const cell[] = { "id", "cpus", "memory", "unit", NULL };
        xmlNodePtr devices = tv_xml_child(root, "devices", NULL), numa = tv_xml_child(cpu, "numa", NULL);
        char *s = strdup(tv_xml_child(tv_xml_child(root, "features", NULL), "acpi", NULL) ? "acpi" : "no-acpi");
        bool ok = s && shape_add(&s, "topology", tv_xml_child(cpu, "topology", NULL), topo) &&
                  shape_add(&s, "vcpu", vcpu, current);

        for (xmlNodePtr n = devices ? devices->children : NULL; ok && n; n = n->next)
                if (tv_xml_is_el(n, "iommu", NULL))
                        ok = shape_add(&s, "iommu", n, model);
        for (xmlNodePtr n = numa ? numa->children : NULL; ok && n; n = n->next)
                if (tv_xml_is_el(n, "cell", NULL))
                        ok = shape_add(&s, "cell", n, cell);
        if (!ok) {
                free(s);
                return NULL;
        }
        return s;
}

int tv_machine_from_xml(const char *xml, size_t len, TvMachine *m, TvError *err)
{
        xmlDocPtr doc = NULL;
        xmlNodePtr root, os, type, cpu, vcpu, gic, devices;
        char *mode = NULL, *vtext = NULL, *dtype = NULL, *arch = NULL;
        int r = -1;

        memset(m, 0, sizeof(*m));
        if (tv_domain_xml_read(xml, len, &doc, NULL, err) < 0)
                return -1;
        root = xmlDocGetRootElement(doc);
        os = tv_xml_child(root, "os", NULL);
        type = tv_xml_child(os, "type", NULL);
        cpu = tv_xml_child(root, "cpu", NULL);
        vcpu = tv_xml_child(root, "vcpu", NULL);
        gic = tv_xml_child(tv_xml_child(root, "features", NULL), "gic", NULL);
        devices = tv_xml_child(root, "devices", NULL);
        m->emulator = text_of(tv_xml_child(devices, "emulator", NULL));
        m->machine = tv_xml_attr(type, "machine");
        arch = tv_xml_attr(type, "arch");
        dtype = tv_xml_attr(root, "type");
        m->accel = strdup(dtype && strcmp(dtype, "kvm") == 0 ? "kvm" : "tcg");
        mode = tv_xml_attr(cpu, "mode");
        if (mode && (strcmp(mode, "host-passthrough") == 0 || strcmp(mode, "host-model") == 0))
                m->cpu = strdup("host");
        else
                m->cpu = text_of(tv_xml_child(cpu, "model", NULL));
        if (!m->cpu)
                m->cpu = strdup(strcmp(m->accel, "kvm") == 0 ? "host" : "max");
        m->gic = tv_xml_attr(gic, "version");
        m->shape = machine_shape(root, cpu, vcpu);
        vtext = text_of(vcpu);
        m->vcpus = vtext ? (unsigned)strtoul(vtext, NULL, 10) : 1;
        if (!m->shape)
                tv_error_oom(err);
        else if (!arch || strcmp(arch, "aarch64") != 0)
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "the domain's architecture is '%.32s'; tegravirt passes devices to aarch64 guests only",
                             arch ? arch : "(none)");
        else if (!tv_qemu_virt_machine(m->machine))
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "the domain's machine type '%.64s' is not QEMU's 'virt' machine, the only one whose device "
                             "tree tegravirt can extend; use <type arch='aarch64' machine='virt'>",
                             m->machine ? m->machine : "");
        else if (!m->emulator || m->emulator[0] != '/')
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML names no absolute <emulator>");
        else if (!qemu_token_ok(m->machine) || !qemu_token_ok(m->cpu) || (m->gic && !qemu_token_ok(m->gic)))
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "the domain XML's machine type, CPU model or GIC version is not one tegravirt can pass to QEMU");
        else if (m->vcpus == 0 || m->vcpus > 512)
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML's <vcpu> is not 1..512");
        else if (memory_mib(tv_xml_child(root, "memory", NULL), &m->mem_mib) < 0)
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML's <memory> is not a size tegravirt understands");
        else
                r = 0;
        free(mode);
        free(vtext);
        free(dtype);
        free(arch);
        xmlFreeDoc(doc);
        if (r < 0)
                tv_machine_clear(m);
        return r;
}

void tv_machine_clear(TvMachine *m)
{
        free(m->emulator);
        free(m->machine);
        free(m->accel);
        free(m->cpu);
        free(m->gic);
        free(m->shape);
        memset(m, 0, sizeof(*m));
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 0x100000001b3ULL;
        }
        return (h ^ 0xff) * 0x100000001b3ULL; /* field separator */
}

int tv_machine_fingerprint(const TvMachine *m, uint64_t *fp, TvError *err)
{
        char num[128];
        struct stat st;
        uint64_t h = 0xcbf29ce484222325ULL;

        if (stat(m->emulator, &st) < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "emulator %s: %s", m->emulator, strerror(errno));
        snprintf(num, sizeof(num), "%u|%llu|%ju|%ju|%lld.%ld", m->vcpus, m->mem_mib, (uintmax_t)st.st_dev,
                 (uintmax_t)st.st_ino, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        h = fnv1a(h, m->emulator);
        h = fnv1a(h, m->machine);
        h = fnv1a(h, m->accel);
        h = fnv1a(h, m->cpu);
        h = fnv1a(h, m->gic ? m->gic : "-");
        h = fnv1a(h, m->shape);
        *fp = fnv1a(h, num);
        return 0;
}

static int ensure_dir(const char *path, TvError *err)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return tv_error_set(err, TV_ERR_FAILED, "cannot create %s: %s", path, strerror(errno));
        return 0;
}

char *tv_domain_dtb_path(const char *state_dir, const char *domain)
{
        char *p = NULL;

        if (asprintf(&p, TV_DOMAIN_DTB_PATH_FMT, state_dir, domain) < 0)
                return NULL;
        return p;
}

/* The dumpdtb options for the domain: what libvirt would run for it (native), filtered (qemu-argv.c). */
static int dump_args(const TvDtbStore *s, const char *domain, const TvMachine *m, const char *native,
                     TvDumpArgs *da, TvError *err)
{
        char *ours;
        int r;

        r = tv_qemu_dump_args(native, da, err);
        if (r < 0)
                return -1;
        if (strcmp(da->emulator, m->emulator) != 0) {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "libvirt would run %s, not the domain's <emulator> %s",
                             da->emulator, m->emulator);
                tv_dump_args_clear(da);
                return -1;
        }
        /* a -dtb of the user's in <qemu:commandline> comes after ours and would win */
        ours = tv_domain_dtb_path(s->state_dir, domain);
        if (!ours) {
                tv_dump_args_clear(da);
                return tv_error_oom(err);
        }
        if (da->dtb && strcmp(da->dtb, ours) != 0) {
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "the domain passes QEMU its own device tree (-dtb %.200s, e.g. in <qemu:commandline>), "
                             "which would replace tegravirt's; remove it to assign devices", da->dtb);
                tv_dump_args_clear(da);
                free(ours);
                return -1;
        }
        free(ours);
        if (da->n + 6 > TV_QEMU_RUN_MAX_ARGS) {
                tv_dump_args_clear(da);
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                    "the domain's QEMU command line has more machine options than tegravirt passes on");
        }
        return 0;
}

/* The cache key of a base tree: the emulator binary and the exact dump options. */
static int dump_key(const TvDumpArgs *da, uint64_t *key, TvError *err)
{
        char num[96];
        struct stat st;
        uint64_t h = 0xcbf29ce484222325ULL;

        if (stat(da->emulator, &st) < 0)
                return tv_error_set(err, TV_ERR_HOST_NOT_READY, "emulator %s: %s", da->emulator, strerror(errno));
        snprintf(num, sizeof(num), "%ju|%ju|%lld.%ld", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        h = fnv1a(h, da->emulator);
        for (size_t i = 0; i < da->n; i++)
                h = fnv1a(h, da->args[i]);
        *key = fnv1a(h, num);
        return 0;
}

/* <state>/bases/<key>.dtb: QEMU's virt tree for one set of dump options. */
static int base_path(const TvDtbStore *s, uint64_t key, char *dir, size_t dir_size, char *path, size_t path_size,
                     TvError *err)
{
        if (snprintf(dir, dir_size, "%s/bases", s->state_dir) >= (int)dir_size ||
            snprintf(path, path_size, "%s/%016" PRIx64 ".dtb", dir, key) >= (int)path_size)
                return tv_error_set(err, TV_ERR_FAILED, "state directory path too long");
        return 0;
}

/* The dump options and cached base tree path of the domain. */
static int base_of(const TvDtbStore *s, const char *domain, const TvMachine *m, const char *native, TvDumpArgs *da,
                   char *dir, size_t dir_size, char *path, size_t path_size, TvError *err)
{
        uint64_t key = 0;

        if (dump_args(s, domain, m, native, da, err) < 0)
                return -1;
        if (dump_key(da, &key, err) < 0 || base_path(s, key, dir, dir_size, path, path_size, err) < 0) {
                tv_dump_args_clear(da);
                return -1;
        }
        return 0;
}

/* QEMU's virt tree for this domain, from the cache; tv_domain_dtb_fetch_base() fills it. */
static int base_tree(const TvDtbStore *s, const char *domain, const TvMachine *m, const char *native, char **blob, size_t *len,
                     TvError *err)
{
        char dir[4096], path[4200];
        TvDumpArgs da;
        int r;

        if (base_of(s, domain, m, native, &da, dir, sizeof(dir), path, sizeof(path), err) < 0)
                return -1;
        tv_dump_args_clear(&da);
        r = tv_read_file_at(AT_FDCWD, path, DTB_MAX_BYTES, blob, len);
        if (r == 0)
                return 0;
        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                            "the base device tree of machine %s is not made yet (the emulator or machine changed "
                            "meanwhile?); retry", m->machine);
}

/* A running dumpdtb, keyed by the base tree it makes. */
typedef struct Dump {
        char *emulator, *machine, *dir, *path, *tmp;
} Dump;

static void dump_free(void *data)
{
        Dump *x = data;

        if (x->tmp)
                unlink(x->tmp);
        free(x->emulator);
        free(x->machine);
        free(x->dir);
        free(x->path);
        free(x->tmp);
        free(x);
}

static void on_dump_child(TvChildResult *res, void *userdata)
{
        TvJob *j = userdata;
        Dump *x = tv_job_data(j);
        TvError err = { 0 };
        int dfd;

        if (tv_qemu_result_check(res, x->emulator, "dumpdtb", DUMPDTB_TIMEOUT_MS, &err) < 0) {
                tv_error_prefix(&err, "cannot dump the base device tree of machine %s", x->machine);
                tv_job_finish(j, &err);
                return;
        }
        if (rename(x->tmp, x->path) < 0) {
                tv_error_set(&err, TV_ERR_FAILED, "%s did not write a device tree", x->emulator);
                tv_job_finish(j, &err);
                return;
        }
        dfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        tv_job_finish(j, NULL);
}

int tv_domain_dtb_fetch_base(const TvDtbStore *s, const char *domain, const char *xml, const char *native,
                             TvJobDoneFn done, void *userdata, TvError *err)
{
        char dir[4096], path[4200], tmp[4300], key[4400], dump_opt[4400];
        const char *args[TV_QEMU_RUN_MAX_ARGS + 1];
        struct stat st;
        TvDumpArgs da = { 0 };
        TvMachine m;
        Dump *x = NULL;
        TvJob *j;
        size_t n = 0;
        int r = -1;

        if (tv_machine_from_xml(xml, strlen(xml), &m, err) < 0)
                return -1;
        if (base_of(s, domain, &m, native, &da, dir, sizeof(dir), path, sizeof(path), err) < 0) {
                tv_machine_clear(&m);
                return -1;
        }
        if (ensure_dir(dir, err) < 0)
                goto out;
        if (stat(path, &st) == 0) {
                r = 1;
                goto out;
        }
        /* one dump per base tree: a second domain with the same machine waits for it */
        snprintf(key, sizeof(key), "dumpdtb:%s", path);
        j = tv_job_find(s->jobs, key);
        if (j) {
                r = tv_job_wait(j, done, userdata) < 0 ? tv_error_oom(err) : 0;
                goto out;
        }
        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
            snprintf(dump_opt, sizeof(dump_opt), "dumpdtb=%s", tmp) >= (int)sizeof(dump_opt)) {
                tv_error_set(err, TV_ERR_FAILED, "state directory path too long");
                goto out;
        }
        for (size_t i = 0; i < da.n; i++)
                args[n++] = da.args[i];
        /* QEMU merges -machine options: the dump path joins the domain's machine */
        args[n++] = "-machine";
        args[n++] = dump_opt;
        args[n++] = "-nodefaults";
        args[n++] = "-nographic";
        args[n] = NULL;
        x = calloc(1, sizeof(*x));
        if (!x || !(x->emulator = strdup(m.emulator)) || !(x->machine = strdup(m.machine)) ||
            !(x->dir = strdup(dir)) || !(x->path = strdup(path)) || !(x->tmp = strdup(tmp))) {
                if (x)
                        dump_free(x);
                tv_error_oom(err);
                goto out;
        }
        j = tv_job_new(s->jobs, key, x, dump_free, err);
        if (!j)
                goto out;
        {
                /* QEMU's complaint (bad machine, CPU or GIC) is passed on: keep some stderr */
                TvChildSpec spec = { .path = m.emulator, .args = args, .timeout_ms = DUMPDTB_TIMEOUT_MS,
                                     .err_cap = 4096 };

                if (tv_job_run(j, &spec, on_dump_child, err) < 0 || tv_job_wait(j, done, userdata) < 0) {
                        tv_error_oom(err);
                        tv_error_prefix(err, "cannot dump the base device tree of machine %s", m.machine);
                        tv_job_finish(j, err);
                        goto out;
                }
        }
        r = 0;
out:
        tv_dump_args_clear(&da);
        tv_machine_clear(&m);
        return r;
}

static int write_at_domains(const TvDtbStore *s, const char *name, const void *data, size_t len, TvError *err)
{
        char dir[4096];
        int dfd, r;

        snprintf(dir, sizeof(dir), "%s/" TV_DOMAIN_DTB_DIR, s->state_dir);
        if (ensure_dir(dir, err) < 0)
                return -1;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot open %s: %s", dir, strerror(errno));
        r = tv_write_file_atomic_at(dfd, name, data, len, 0644);
        close(dfd);
        if (r < 0)
                return tv_error_set(err, TV_ERR_FAILED, "cannot write %s/%s: %s", dir, name, strerror(-r));
        return 0;
}

int tv_domain_dtb_update(const TvDtbStore *s, const char *domain, const char *xml, const char *base_native,
                         const TvCatalogDevice *const *devs, size_t n, uint64_t bpmp_base, const TvGuestGpio *gpio,
                         TvError *err)
{
        char name[128], fptext[32], *base = NULL;
        void *out = NULL;
        size_t base_len = 0, out_len = 0;
        TvMachine m;
        uint64_t fp;
        int r = -1;

        if (n == 0 && !gpio) {
                char path[4200];

                snprintf(path, sizeof(path), FINGERPRINT_PATH_FMT, s->state_dir, domain);
                unlink(path);
                snprintf(path, sizeof(path), TV_DOMAIN_DTB_PATH_FMT, s->state_dir, domain);
                unlink(path);
                return 0;
        }
        if (tv_machine_from_xml(xml, strlen(xml), &m, err) < 0)
                return -1;
        if (tv_machine_fingerprint(&m, &fp, err) < 0 ||
            base_tree(s, domain, &m, base_native, &base, &base_len, err) < 0 ||
            tv_guest_dtb_build_gpio(base, base_len, devs, n, bpmp_base, gpio, &out, &out_len, err) < 0)
                goto out;
        snprintf(name, sizeof(name), "%s.dtb", domain);
        snprintf(fptext, sizeof(fptext), "%016" PRIx64 "\n", fp);
        /* the fingerprint goes last: a crash in between leaves a mismatch, which prepare refuses */
        if (write_at_domains(s, name, out, out_len, err) < 0)
                goto out;
        snprintf(name, sizeof(name), "%s.fingerprint", domain);
        r = write_at_domains(s, name, fptext, strlen(fptext), err);
out:
        if (r < 0)
                tv_error_prefix(err, "guest device tree of %s", domain);
        tv_machine_clear(&m);
        free(base);
        free(out);
        return r;
}

int tv_domain_dtb_check(const TvDtbStore *s, const char *domain, const char *xml, TvError *err)
{
        char path[4200], *stored = NULL, want[32];
        TvMachine m;
        uint64_t fp;
        int r;

        if (tv_machine_from_xml(xml, strlen(xml), &m, err) < 0)
                return -1;
        r = tv_machine_fingerprint(&m, &fp, err);
        tv_machine_clear(&m);
        if (r < 0)
                return -1;
        snprintf(want, sizeof(want), "%016" PRIx64 "\n", fp);
        snprintf(path, sizeof(path), FINGERPRINT_PATH_FMT, s->state_dir, domain);
        r = tv_read_file_at(AT_FDCWD, path, 64, &stored, NULL);
        if (r < 0 || strcmp(stored, want) != 0) {
                free(stored);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "the guest device tree of %s was made for another machine (vCPUs, CPU topology, memory, "
                                    "machine type, GIC, ACPI, IOMMU or emulator changed, or tegravirt was upgraded) or "
                                    "is missing; run 'busctl call org.tegravirt /org/tegravirt "
                                    "org.tegravirt.Manager1 RepairDomain s %s' to regenerate it",
                                    domain, domain);
        }
        free(stored);
        return 0;
}

void tv_domain_dtb_prune(const TvDtbStore *s, bool (*keep)(void *userdata, const char *domain), void *userdata)
{
        char dir[4096];
        struct dirent *de;
        DIR *dp;
        int dfd;

        if (snprintf(dir, sizeof(dir), "%s/" TV_DOMAIN_DTB_DIR, s->state_dir) >= (int)sizeof(dir) ||
            !(dp = opendir(dir)))
                return;
        dfd = dirfd(dp);
        while ((de = readdir(dp))) {
                char name[256];
                const char *dot = strrchr(de->d_name, '.');

                /* <domain>.dtb and <domain>.fingerprint (temporary files start with a dot) */
                if (de->d_name[0] == '.' || !dot || (strcmp(dot, ".dtb") != 0 && strcmp(dot, ".fingerprint") != 0) ||
                    (size_t)(dot - de->d_name) >= sizeof(name))
                        continue;
                memcpy(name, de->d_name, (size_t)(dot - de->d_name));
                name[dot - de->d_name] = 0;
                if (!tv_domain_name_valid(name) || keep(userdata, name))
                        continue;
                if (unlinkat(dfd, de->d_name, 0) == 0)
                        tv_log(LOG_INFO, "removed %s/%s: no device is assigned to domain %s", dir, de->d_name,
                                name);
        }
        closedir(dp);
}
