/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vu-front: a small vhost-user *front end* for tests, the bench and the rig (what QEMU does for
 * a vhost-user device, without QEMU): guest memory in a memfd, split rings in it, the
 * protocol messages, kick and call eventfds, and QEMU 7.2's disconnect/reconnect behaviour
 * (on a lost connection last_avail becomes the used idx, sent back with SET_VRING_BASE).
 * Plain libc only, so it builds statically for aarch64:
 *   aarch64-linux-gnu-gcc -static -O2 -Itests/lib tests/lib/vu-front.c tool.c
 * Every function returns a negative errno on failure unless said otherwise.
 */
#ifndef VU_FRONT_H
#define VU_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VU_FRONT_BUF_SIZE 4096u /* each descriptor index owns one buffer of this size */
#define VU_FRONT_GPA_BASE 0x40000000ull

typedef struct VuFront VuFront;

/* Guest memory and rings for n_queues queues of qsize entries (power of 2); not connected. */
VuFront *vu_front_new(unsigned n_queues, uint16_t qsize);
void vu_front_free(VuFront *f);
/* Connect to a back end's listening socket / use a connected stream socket (taken). */
int vu_front_connect(VuFront *f, const char *path);
int vu_front_attach(VuFront *f, int fd);
int vu_front_fd(VuFront *f);
/* Closes the connection like a dead back end looks to QEMU 7.2: each started queue's
 * last_avail := used->idx (virtio_queue_restore_last_avail_idx). */
void vu_front_disconnect(VuFront *f);
/* Reply timeout for every exchange (default 5000 ms). */
void vu_front_set_timeout(VuFront *f, int ms);

/* SET_OWNER, GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (what we support of
 * the offer: MQ, REPLY_ACK, CONFIG), GET_QUEUE_NUM when MQ. *dev_features = the offer. */
int vu_front_negotiate(VuFront *f, uint64_t *dev_features);
uint64_t vu_front_protocol_features(VuFront *f);
/* GET_CONFIG: 0 with buf filled, -EIO when the back end answered with an empty payload. */
int vu_front_get_config(VuFront *f, uint32_t offset, void *buf, uint32_t len);
/* SET_FEATURES(features), SET_MEM_TABLE, per queue SET_VRING_NUM/BASE/ADDR/KICK/CALL, then
 * SET_VRING_ENABLE 1 — QEMU's vhost_dev_start order. */
int vu_front_start(VuFront *f, uint64_t features);
/* GET_VRING_BASE for every queue (QEMU's vhost_dev_stop); last_avail := the reply. */
int vu_front_stop(VuFront *f);
uint16_t vu_front_last_avail(VuFront *f, unsigned q);
/* The driver's side of a device reset: rings zeroed, every index 0, all descriptors free
 * (send vu_front_stop first, as QEMU does, and vu_front_start after). */
void vu_front_reset(VuFront *f);

/* Raw messages for protocol tests. send: fds passed with SCM_RIGHTS. recv: payload up to cap;
 * returns the payload size, *request and *flags set. */
int vu_front_send(VuFront *f, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
                  const int *fds, unsigned nfds);
int vu_front_recv(VuFront *f, uint32_t *request, uint32_t *flags, void *payload, uint32_t cap);
/* The memory table message payload for the current guest memory, and its fd. */
uint32_t vu_front_mem_table(VuFront *f, void *payload, int *fd);
/* Exchange: send, and when the message has a reply (or NEED_REPLY with REPLY_ACK) read it;
 * for a u64 reply returns it in *u64. 0 or -errno (-EIO: acked failure). */
int vu_front_call(VuFront *f, uint32_t request, const void *payload, uint32_t size,
                  const int *fds, unsigned nfds, uint64_t *u64);

/* Buffers. A chain = out_len device-readable bytes (copied from out) then in_len
 * device-writable bytes, each part split into VU_FRONT_BUF_SIZE descriptors. Returns the head. */
int vu_front_submit(VuFront *f, unsigned q, const void *out, size_t out_len, size_t in_len);
void vu_front_kick(VuFront *f, unsigned q);
/* The next used element: 1 with *head and *len, 0 on timeout. Its descriptors become free. */
int vu_front_wait_used(VuFront *f, unsigned q, int timeout_ms, uint16_t *head, uint32_t *len);
/* Copies the device-writable bytes of chain head (after its used entry arrived). */
size_t vu_front_read_in(VuFront *f, unsigned q, uint16_t head, void *buf, size_t cap);
/* Number of interrupts signalled on q's call eventfd since the last call (reads it). */
uint64_t vu_front_calls(VuFront *f, unsigned q);
uint16_t vu_front_used_idx(VuFront *f, unsigned q);

/* Raw ring access (hostile driver tests): descriptor i, its buffer, publishing a head. */
void vu_front_set_desc(VuFront *f, unsigned q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                       uint16_t next);
uint64_t vu_front_buf_gpa(VuFront *f, unsigned q, uint16_t i);
void *vu_front_buf(VuFront *f, unsigned q, uint16_t i);
void vu_front_avail_add(VuFront *f, unsigned q, uint16_t head);
/* Sets the avail index directly (corruption tests). */
void vu_front_set_avail_idx(VuFront *f, unsigned q, uint16_t idx);

#endif
