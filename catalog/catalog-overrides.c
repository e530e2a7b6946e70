// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device catalog: loading. The shipped catalog, then every *.xml of the
 * override directory (catalog.d) in name order, merged: an entry with an
 * existing name replaces it, a new name is added, BPMP IDs stay written once.
 */
#include "catalog-internal.h"
#include "tv-fileio.h"
#include "tv-macros.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool streq_null(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}


/* ------------------------------------------------------------------------- */
/* Merging and finalizing                                                    */

static int move_resource(Cat *dst, Resource *r)
{
        Resource *nr;

        if (dst->n_res >= MAX_RESOURCES)
                return -2;
        nr = realloc(dst->res, (dst->n_res + 1) * sizeof(*nr));
        if (!nr)
                return -1;
        dst->res = nr;
        dst->res[dst->n_res++] = *r;
        memset(r, 0, sizeof(*r));
        return 0;
}

/* Merges override ov into base; ov is consumed (emptied) on success. */
static int merge(Cat *base, Cat *ov, TvError *err)
{
        if (strcmp(base->soc, ov->soc) != 0)
                return cat_fail_at(err, ov->origin, ov->line, "soc '%s' does not match soc '%s' of the shipped catalog",
                                   ov->soc, base->soc);

        /* BPMP resources: new ones are added; an identical redeclaration is accepted,
         * anything else would write an ID down twice */
        for (size_t i = 0; i < ov->n_res; i++) {
                Resource *r = &ov->res[i];
                Resource *same_name = NULL, *same_id = NULL;
                int m;

                for (size_t j = 0; j < base->n_res; j++) {
                        Resource *b = &base->res[j];

                        if (b->kind != r->kind)
                                continue;
                        if (strcmp(b->name, r->name) == 0)
                                same_name = b;
                        if (b->id == r->id)
                                same_id = b;
                }
                if (same_name && same_name == same_id && streq_null(same_name->parent, r->parent))
                        continue;
                if (same_name)
                        return cat_fail_at(err, ov->origin, r->line,
                                           "<bpmp>: %s '%s' is already declared with id %" PRIu32 "%s%s%s in "
                                           "catalog %s line %ld; a BPMP resource cannot be redefined",
                                           cat_rk_name[r->kind], r->name, same_name->id,
                                           same_name->parent ? " and parent '" : "",
                                           same_name->parent ? same_name->parent : "", same_name->parent ? "'" : "",
                                           same_name->origin, same_name->line);
                if (same_id)
                        return cat_fail_at(err, ov->origin, r->line,
                                           "<bpmp>: %s id %" PRIu32 " is already declared as '%s' in catalog %s line %ld; "
                                           "every BPMP ID is written down once",
                                           cat_rk_name[r->kind], r->id, same_id->name, same_id->origin, same_id->line);
                m = move_resource(base, r);
                if (m == -2)
                        return cat_fail_at(err, ov->origin, -1, "more than %d BPMP resources after merging",
                                           MAX_RESOURCES);
                if (m < 0)
                        return tv_error_oom(err);
        }
        for (size_t i = 0; i < ov->bpmp_args.n; i++) {
                if (tv_strv_contains(base->bpmp_args.v, ov->bpmp_args.v[i]))
                        continue;
                if (base->bpmp_args.n >= MAX_BPMP_ARGS)
                        return cat_fail_at(err, ov->origin, -1, "more than %d BPMP kernel arguments after merging",
                                           MAX_BPMP_ARGS);
                if (tv_strv_push(&base->bpmp_args, ov->bpmp_args.v[i]) < 0)
                        return tv_error_oom(err);
        }

        /* devices: same name replaces, new name is added */
        for (size_t i = 0; i < ov->n_devs; i++) {
                DevDraft *d = &ov->devs[i];
                size_t j;

                for (j = 0; j < base->n_devs; j++)
                        if (strcmp(base->devs[j].dev.name, d->dev.name) == 0)
                                break;
                if (j < base->n_devs) {
                        cat_draft_clear(&base->devs[j]);
                        base->devs[j] = *d;
                } else {
                        DevDraft *nd;

                        if (base->n_devs >= TV_CATALOG_MAX_DEVICES)
                                return cat_fail_at(err, ov->origin, d->line,
                                                   "device '%s': more than %d devices after merging", d->dev.name,
                                                   TV_CATALOG_MAX_DEVICES);
                        nd = realloc(base->devs, (base->n_devs + 1) * sizeof(*nd));
                        if (!nd)
                                return tv_error_oom(err);
                        base->devs = nd;
                        base->devs[base->n_devs++] = *d;
                }
                memset(d, 0, sizeof(*d));
        }

        /* line groups: the same, by name */
        for (size_t i = 0; i < ov->n_groups; i++) {
                GroupDraft *g = &ov->groups[i];
                size_t j;

                for (j = 0; j < base->n_groups; j++)
                        if (strcmp(base->groups[j].group.name, g->group.name) == 0)
                                break;
                if (j < base->n_groups) {
                        cat_line_group_clear(&base->groups[j].group);
                        base->groups[j] = *g;
                } else {
                        GroupDraft *ng;

                        if (base->n_groups >= TV_CATALOG_MAX_LINE_GROUPS)
                                return cat_fail_at(err, ov->origin, g->line,
                                                   "line group '%s': more than %d line groups after merging",
                                                   g->group.name, TV_CATALOG_MAX_LINE_GROUPS);
                        ng = realloc(base->groups, (base->n_groups + 1) * sizeof(*ng));
                        if (!ng)
                                return tv_error_oom(err);
                        base->groups = ng;
                        base->groups[base->n_groups++] = *g;
                }
                memset(g, 0, sizeof(*g));
        }
        return 0;
}

static int read_doc(int dirfd, const char *path, const char *origin, xmlRelaxNGPtr schema, Cat **out, TvError *err)
{
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int r;

        /* never open a FIFO or device node: the open itself could block */
        if (fstatat(dirfd, path, &st, 0) < 0)
                return cat_fail_at(err, origin, -1, "cannot read: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return cat_fail_at(err, origin, -1, "not a regular file");
        r = tv_read_file_at(dirfd, path, TV_CATALOG_MAX_BYTES, &buf, &len);

        if (r == -EFBIG)
                return cat_fail_at(err, origin, -1, "file is larger than the limit of %d bytes", TV_CATALOG_MAX_BYTES);
        if (r < 0)
                return cat_fail_at(err, origin, -1, "cannot read: %s", strerror(-r));
        r = cat_parse_doc(buf, len, origin, schema, out, err);
        free(buf);
        return r;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.xml names in dir (no dot files, regular files checked on read). */
static int list_overrides(const char *dir, int *dirfd_out, char ***names_out, size_t *n_out, TvError *err)
{
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int fd = -1;
        _cleanup_(tv_strv_clear) TvStrv names = { 0 };
        struct dirent *de;

        *dirfd_out = -1;
        *names_out = NULL;
        *n_out = 0;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog override directory %s: %s", dir,
                                    strerror(errno));
        }
        d = fdopendir(dup(fd));
        if (!d)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog override directory %s: %s", dir,
                                    strerror(errno));
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);

                if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
                        continue;
                if (names.n >= MAX_OVERRIDES)
                        return tv_error_set(err, TV_ERR_INVALID_ARGUMENT,
                                            "catalog override directory %s: more than %d *.xml files", dir,
                                            MAX_OVERRIDES);
                if (tv_strv_push(&names, de->d_name) < 0)
                        return tv_error_oom(err);
        }
        if (names.n)
                qsort(names.v, names.n, sizeof(char *), name_cmp);
        *n_out = names.n;
        *names_out = TAKE_PTR(names.v);
        *dirfd_out = TAKE_FD(fd);
        return 0;
}

int tv_catalog_load(const char *shipped_path, const char *override_dir, TvCatalog **out, TvError *err)
{
        xmlRelaxNGPtr schema = NULL;
        Cat *base = NULL, *ov = NULL;
        char **names = NULL;
        size_t n_names = 0;
        int dirfd = -1, r = -1;

        if (!shipped_path || !out)
                return tv_error_set(err, TV_ERR_INVALID_ARGUMENT, "catalog: no shipped catalog path given");
        schema = cat_schema_load(err);
        if (!schema)
                return -1;
        if (read_doc(AT_FDCWD, shipped_path, shipped_path, schema, &base, err) < 0)
                goto out;
        if (override_dir && list_overrides(override_dir, &dirfd, &names, &n_names, err) < 0)
                goto out;
        if (n_names == 0) {
                r = cat_finalize(base, out, err);
                base = NULL;
                goto out;
        }

        /* the shipped catalog must stand on its own, whatever the overrides replace */
        if (cat_validate(base, err) < 0)
                goto out;
        for (size_t i = 0; i < n_names; i++) {
                size_t plen = strlen(override_dir) + 1 + strlen(names[i]) + 1;
                char *origin = malloc(plen);

                if (!origin) {
                        tv_error_oom(err);
                        goto out;
                }
                snprintf(origin, plen, "%s%s%s", override_dir,
                         override_dir[0] && override_dir[strlen(override_dir) - 1] == '/' ? "" : "/", names[i]);
                if (read_doc(dirfd, names[i], origin, schema, &ov, err) < 0 || merge(base, ov, err) < 0) {
                        free(origin);
                        goto out;
                }
                free(origin);
                cat_free(ov);
                ov = NULL;
        }
        r = cat_finalize(base, out, err);
        base = NULL;
out:
        if (dirfd >= 0)
                close(dirfd);
        tv_strv_free(names);
        cat_free(ov);
        cat_free(base);
        return r;
}
