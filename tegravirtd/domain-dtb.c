// SPDX-License-Identifier: GPL-2.0-or-later
#include "domain-dtb.h"
#include "domain-edit.h"
#include "domain-sync.h"
#include "guest-dtb.h"
#include "qemu-caps.h"
#include "tv-fileio.h"
#include "tv-names.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUMPDTB_TIMEOUT_MS 30000
#define DTB_MAX_BYTES (2 * 1024 * 1024)

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
        for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
                        return c;
        return NULL;
}

static char *text_of(xmlNodePtr n)
{
        xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
        char *s = t ? strdup((const char *)t) : NULL;

        xmlFree(t);
        return s;
}

static char *attr_of(xmlNodePtr n, const char *name)
{
        xmlChar *t = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
        char *s = t ? strdup((const char *)t) : NULL;

        xmlFree(t);
        return s;
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
        char *text = text_of(mem), *unit = attr_of(mem, "unit"), *end = NULL;
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

int tv_machine_from_xml(const char *xml, size_t len, TvMachine *m, TvError *err)
{
        xmlDocPtr doc = NULL;
        xmlNodePtr root, os, type, cpu, vcpu, gic;
        char *mode = NULL, *vtext = NULL, *dtype = NULL;
        int r = -1;

        memset(m, 0, sizeof(*m));
        if (tv_domain_xml_read(xml, len, &doc, NULL, err) < 0)
                return -1;
        root = xmlDocGetRootElement(doc);
        os = child(root, "os");
        type = child(os, "type");
        cpu = child(root, "cpu");
        vcpu = child(root, "vcpu");
        gic = child(child(root, "features"), "gic");
        m->emulator = text_of(child(child(root, "devices"), "emulator"));
        m->machine = attr_of(type, "machine");
        dtype = attr_of(root, "type");
        m->accel = strdup(dtype && strcmp(dtype, "kvm") == 0 ? "kvm" : "tcg");
        mode = attr_of(cpu, "mode");
        if (mode && (strcmp(mode, "host-passthrough") == 0 || strcmp(mode, "host-model") == 0))
                m->cpu = strdup("host");
        else
                m->cpu = text_of(child(cpu, "model"));
        if (!m->cpu)
                m->cpu = strdup(strcmp(m->accel, "kvm") == 0 ? "host" : "max");
        m->gic = attr_of(gic, "version");
        vtext = text_of(vcpu);
        m->vcpus = vtext ? (unsigned)strtoul(vtext, NULL, 10) : 1;
        if (!m->emulator || m->emulator[0] != '/')
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML names no absolute <emulator>");
        else if (!qemu_token_ok(m->machine) || !qemu_token_ok(m->cpu) || (m->gic && !qemu_token_ok(m->gic)))
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                             "the domain XML's machine type, CPU model or GIC version is not one tegravirt can pass to QEMU");
        else if (m->vcpus == 0 || m->vcpus > 512)
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML's <vcpu> is not 1..512");
        else if (memory_mib(child(root, "memory"), &m->mem_mib) < 0)
                tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "the domain XML's <memory> is not a size tegravirt understands");
        else
                r = 0;
        free(mode);
        free(vtext);
        free(dtype);
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
        *fp = fnv1a(h, num);
        return 0;
}

static int ensure_dir(const char *path, TvError *err)
{
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return tv_error_set(err, TV_ERR_FAILED, "cannot create %s: %s", path, strerror(errno));
        return 0;
}

/* <state>/bases/<fingerprint>.dtb: QEMU's virt tree for one machine. */
static int base_path(TvDaemon *d, uint64_t fp, char *dir, size_t dir_size, char *path, size_t path_size,
                     TvError *err)
{
        if (snprintf(dir, dir_size, "%s/bases", d->state_dir_abs) >= (int)dir_size ||
            snprintf(path, path_size, "%s/%016" PRIx64 ".dtb", dir, fp) >= (int)path_size)
                return tv_error_set(err, TV_ERR_FAILED, "state directory path too long");
        return 0;
}

/* QEMU's virt tree for this machine, from the cache; tv_domain_dtb_fetch_base() fills it. */
static int base_tree(TvDaemon *d, const TvMachine *m, uint64_t fp, char **blob, size_t *len, TvError *err)
{
        char dir[4096], path[4200];

        if (base_path(d, fp, dir, sizeof(dir), path, sizeof(path), err) < 0)
                return -1;
        if (tv_read_file_at(AT_FDCWD, path, DTB_MAX_BYTES, blob, len) == 0)
                return 0;
        return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                            "the base device tree of machine %s is not made yet (the emulator or machine changed "
                            "meanwhile?); retry", m->machine);
}

/* The dumpdtb command line for machine m, writing to tmp. */
typedef struct DumpArgs {
        char machine_opt[4500], smp[16], mem[32];
        const char *args[14];
} DumpArgs;

static int dump_args(const TvMachine *m, const char *tmp, DumpArgs *a, TvError *err)
{
        const char **args = a->args;
        size_t n = 0;

        if (snprintf(a->machine_opt, sizeof(a->machine_opt), "%s,dumpdtb=%s%s%s", m->machine, tmp,
                     m->gic ? ",gic-version=" : "", m->gic ? m->gic : "") >= (int)sizeof(a->machine_opt))
                return tv_error_set(err, TV_ERR_FAILED, "state directory path too long");
        snprintf(a->smp, sizeof(a->smp), "%u", m->vcpus);
        snprintf(a->mem, sizeof(a->mem), "%lluM", m->mem_mib);
        args[n++] = "-machine";
        args[n++] = a->machine_opt;
        args[n++] = "-accel";
        args[n++] = m->accel;
        args[n++] = "-cpu";
        args[n++] = m->cpu;
        args[n++] = "-smp";
        args[n++] = a->smp;
        args[n++] = "-m";
        args[n++] = a->mem;
        args[n++] = "-nodefaults";
        args[n++] = "-nographic";
        args[n] = NULL;
        return 0;
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

        if (tv_child_result_check(res, x->emulator, "dumpdtb", DUMPDTB_TIMEOUT_MS, 0, &err) < 0) {
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

int tv_domain_dtb_fetch_base(TvDaemon *d, const char *xml, TvJobDoneFn done, void *userdata, TvError *err)
{
        char dir[4096], path[4200], tmp[4300], key[4400];
        struct stat st;
        DumpArgs a;
        TvMachine m;
        uint64_t fp;
        Dump *x = NULL;
        TvJob *j;
        int r = -1;

        if (tv_machine_from_xml(xml, strlen(xml), &m, err) < 0)
                return -1;
        if (tv_machine_fingerprint(&m, &fp, err) < 0 || base_path(d, fp, dir, sizeof(dir), path, sizeof(path), err) < 0 ||
            ensure_dir(dir, err) < 0)
                goto out;
        if (stat(path, &st) == 0) {
                r = 1;
                goto out;
        }
        /* one dump per base tree: a second domain with the same machine waits for it */
        snprintf(key, sizeof(key), "dumpdtb:%s", path);
        j = tv_job_find(d->jobs, key);
        if (j) {
                r = tv_job_wait(j, done, userdata) < 0 ? tv_error_set(err, TV_ERR_FAILED, "out of memory") : 0;
                goto out;
        }
        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
                tv_error_set(err, TV_ERR_FAILED, "state directory path too long");
                goto out;
        }
        if (dump_args(&m, tmp, &a, err) < 0)
                goto out;
        x = calloc(1, sizeof(*x));
        if (!x || !(x->emulator = strdup(m.emulator)) || !(x->machine = strdup(m.machine)) ||
            !(x->dir = strdup(dir)) || !(x->path = strdup(path)) || !(x->tmp = strdup(tmp))) {
                if (x)
                        dump_free(x);
                tv_error_set(err, TV_ERR_FAILED, "out of memory");
                goto out;
        }
        j = tv_job_new(d->jobs, key, x, dump_free, err);
        if (!j)
                goto out;
        {
                /* QEMU's complaint (bad machine, CPU or GIC) is worth showing: keep some stderr */
                TvChildSpec spec = { .path = m.emulator, .args = a.args, .timeout_ms = DUMPDTB_TIMEOUT_MS,
                                     .err_cap = 4096 };

                if (tv_job_run(j, &spec, on_dump_child, err) < 0 || tv_job_wait(j, done, userdata) < 0) {
                        tv_error_set(err, TV_ERR_FAILED, "out of memory");
                        tv_error_prefix(err, "cannot dump the base device tree of machine %s", m.machine);
                        tv_job_finish(j, err);
                        goto out;
                }
        }
        r = 0;
out:
        tv_machine_clear(&m);
        return r;
}

static int write_at_domains(TvDaemon *d, const char *name, const void *data, size_t len, TvError *err)
{
        char dir[4096];
        int dfd, r;

        snprintf(dir, sizeof(dir), "%s/domains", d->state_dir_abs);
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

int tv_domain_dtb_update(TvDaemon *d, const char *domain, const char *xml, const TvCatalogDevice *const *devs,
                         size_t n, uint64_t bpmp_base, TvError *err)
{
        char name[128], fptext[32], *base = NULL;
        void *out = NULL;
        size_t base_len = 0, out_len = 0;
        TvMachine m;
        uint64_t fp;
        int r = -1;

        if (n == 0) {
                char path[4200];

                snprintf(path, sizeof(path), "%s/domains/%s.fingerprint", d->state_dir_abs, domain);
                unlink(path);
                snprintf(path, sizeof(path), "%s/domains/%s.dtb", d->state_dir_abs, domain);
                unlink(path);
                return 0;
        }
        if (tv_machine_from_xml(xml, strlen(xml), &m, err) < 0)
                return -1;
        if (tv_machine_fingerprint(&m, &fp, err) < 0 || base_tree(d, &m, fp, &base, &base_len, err) < 0 ||
            tv_guest_dtb_build(base, base_len, devs, n, bpmp_base, &out, &out_len, err) < 0)
                goto out;
        snprintf(name, sizeof(name), "%s.dtb", domain);
        snprintf(fptext, sizeof(fptext), "%016" PRIx64 "\n", fp);
        /* the fingerprint goes last: a crash in between leaves a mismatch, which prepare refuses */
        if (write_at_domains(d, name, out, out_len, err) < 0)
                goto out;
        snprintf(name, sizeof(name), "%s.fingerprint", domain);
        r = write_at_domains(d, name, fptext, strlen(fptext), err);
out:
        if (r < 0)
                tv_error_prefix(err, "guest device tree of %s", domain);
        tv_machine_clear(&m);
        free(base);
        free(out);
        return r;
}

int tv_domain_dtb_check(TvDaemon *d, const char *domain, const char *xml, TvError *err)
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
        snprintf(path, sizeof(path), "%s/domains/%s.fingerprint", d->state_dir_abs, domain);
        r = tv_read_file_at(AT_FDCWD, path, 64, &stored, NULL);
        if (r < 0 || strcmp(stored, want) != 0) {
                free(stored);
                return tv_error_set(err, TV_ERR_HOST_NOT_READY,
                                    "the guest device tree of %s was made for another machine (vCPUs, memory, machine type, "
                                    "GIC or emulator changed) or is missing; run 'busctl call org.tegravirt /org/tegravirt "
                                    "org.tegravirt.Manager1 RepairDomain s %s' to regenerate it",
                                    domain, domain);
        }
        free(stored);
        return 0;
}
