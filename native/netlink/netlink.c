// tsbgp_netlink: a NETLINK_ROUTE socket for Node, which cannot open AF_NETLINK.
//
// Deliberately small: open/bind/options, send one Buffer of many messages
// (synchronously, or on the libuv thread pool so the kernel's work on a big
// batch does not stall the event loop), and receive through a uv_poll_t that
// drains many datagrams per wakeup and hands JS one Buffer holding them back
// to back. All encoding and decoding of messages happens in TypeScript.
//
// JS API (handles are externals):
//   open(groups, rcvbuf, sndbuf, flags, onRecv) -> handle
//       onRecv(buf: Buffer | null, errno: number); errno is ENOBUFS when the
//       kernel dropped messages for this socket (the caller must resync).
//   send(handle, buf, len) -> bytes sent or -errno
//   sendAsync(handle, buf, len, cb(result)) -> undefined; buffers are sent in
//       call order by one pool thread at a time, so several may be queued
//   addMembership(handle, group) -> 0 or -errno (groups above 32, e.g. RTNLGRP_NEXTHOP)
//   dropEchoes(handle, portId) -> 0 or -errno: a socket filter that drops route and
//       nexthop messages carrying nlmsg_pid == portId (notifications of another
//       socket's own writes) in the kernel, before they are queued to this socket
//   info(handle) -> { portId, rcvbuf, sndbuf, sendMs, sends }: sendMs is the time
//       spent in sendAsync's sendmsg() calls (wall clock, on the pool thread)
//   ref(handle, bool)   keep / stop keeping the event loop alive
//   close(handle)
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

#define FLAG_EXT_ACK 1
#define FLAG_CAP_ACK 2
#define FLAG_STRICT 4

// The kernel caps a netlink datagram at 32 KiB for dumps; keep room for a
// larger one (a link with many VFs) so nothing is truncated.
#define DGRAM_ROOM (64 * 1024)
#define RECV_BUF (1024 * 1024)

typedef struct {
  int fd;
  uint32_t port_id;
  uv_poll_t poll;
  int polling;    // uv_poll_init done
  int closing;    // close() was called
  int uv_closed;  // the poll handle is closed (or was never opened)
  int finalized;  // the JS handle was collected
  int sending;    // workers started and not completed: the fd stays open until they end
  napi_env env;
  uv_mutex_t mu;  // guards the queues and worker_running
  struct send_item *pending_head, *pending_tail;  // queued, not yet sent
  struct send_item *done_head, *done_tail;        // sent, callback not yet called
  int worker_running;
  uint64_t send_ns;     // time spent inside sendAsync's sendmsg() calls (the kernel's work)
  uint64_t send_calls;
  int in_deliver;  // inside onRecv: close() must not destroy the async context yet
  napi_ref on_recv;
  napi_async_context actx;
  uint8_t *rbuf;
} nl_sock;

// One buffer handed to sendAsync. Items wait in the socket's queue; one worker
// at a time (on the libuv pool) sends them in order, so JS can queue the next
// batch while the kernel is still busy with the previous one.
typedef struct send_item {
  struct send_item *next;
  napi_ref buf_ref;
  napi_ref cb_ref;
  const uint8_t *data;
  size_t len;
  ssize_t result;
} send_item;

typedef struct {
  nl_sock *s;
  napi_async_work work;
} send_run;

static napi_value throw_errno(napi_env env, int errnum, const char *what) {
  char msg[256];
  const char *name = strerrorname_np(errnum);
  if (name == NULL) name = "EUNKNOWN";
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, strerror(errnum), name);
  napi_value code, text, err, val;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  napi_create_int32(env, -errnum, &val);
  napi_set_named_property(env, err, "errno", val);
  napi_throw(env, err);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value make_undefined(napi_env env) {
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

static void maybe_free(nl_sock *s) {
  if (s->uv_closed && s->finalized && s->sending == 0) {
    uv_mutex_destroy(&s->mu);
    free(s->rbuf);
    free(s);
  }
}

static void maybe_close_fd(nl_sock *s) {
  if (s->closing && s->sending == 0 && s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
}

static void on_uv_closed(uv_handle_t *h) {
  nl_sock *s = h->data;
  s->uv_closed = 1;
  maybe_free(s);
}

static void do_close(napi_env env, nl_sock *s) {
  if (s->closing) return;
  s->closing = 1;
  if (s->on_recv != NULL) {
    napi_delete_reference(env, s->on_recv);
    s->on_recv = NULL;
  }
  if (s->actx != NULL && !s->in_deliver) {
    napi_async_destroy(env, s->actx);
    s->actx = NULL;
  }
  if (s->polling) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_uv_closed);
  } else {
    s->uv_closed = 1;
  }
  maybe_close_fd(s);
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)hint;
  nl_sock *s = data;
  do_close(env, s);
  s->finalized = 1;
  maybe_free(s);
}

static nl_sock *get_sock(napi_env env, napi_value v) {
  nl_sock *s = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, (void **)&s) != napi_ok) return NULL;
  return s;
}

// Calls onRecv(buf, errno) inside a callback scope so promises and nextTicks
// queued by JS run before we return to libuv.
static void deliver(nl_sock *s, size_t len, int err) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], res;
  napi_get_reference_value(env, s->on_recv, &cb);
  napi_get_global(env, &recv);  // napi_make_callback wants an object receiver
  if (len > 0) {
    void *copy;
    napi_create_buffer_copy(env, len, s->rbuf, &copy, &argv[0]);
  } else {
    napi_get_null(env, &argv[0]);
  }
  napi_create_int32(env, err, &argv[1]);
  s->in_deliver = 1;
  napi_status st = napi_make_callback(env, s->actx, recv, cb, 2, argv, &res);
  s->in_deliver = 0;
  if (s->closing && s->actx != NULL) {  // closed from inside the callback
    napi_async_destroy(env, s->actx);
    s->actx = NULL;
  }
  if (st == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_fatal_exception(env, e);
  }
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  nl_sock *s = h->data;
  if (s->closing || s->on_recv == NULL) return;
  size_t off = 0;
  int err = 0;
  if (status < 0) {
    err = -status;
  } else {
    // Level triggered: stop when the buffer is nearly full and libuv will call
    // again, so one busy socket cannot starve the rest of the loop.
    while (RECV_BUF - off >= DGRAM_ROOM) {
      ssize_t n = recv(s->fd, s->rbuf + off, RECV_BUF - off, MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
        break;
      }
      if ((size_t)n > RECV_BUF - off) {
        err = EMSGSIZE;  // truncated: cannot happen with the room we keep
        break;
      }
      size_t aligned = NLMSG_ALIGN((size_t)n);
      if (aligned > RECV_BUF - off) aligned = (size_t)n;
      memset(s->rbuf + off + n, 0, aligned - (size_t)n);
      off += aligned;
    }
  }
  if (off == 0 && err == 0) return;
  deliver(s, off, err);
  if (status < 0 && !s->closing) uv_poll_stop(&s->poll);
}

static void set_buf(int fd, int force_opt, int opt, int size) {
  if (size <= 0) return;
  if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof size) == 0) return;
  setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

static void set_nl_opt(int fd, int opt) {
  int one = 1;
  setsockopt(fd, SOL_NETLINK, opt, &one, sizeof one);  // absent on old kernels: ignore
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return throw_type(env, "open(groups, rcvbuf, sndbuf, flags, onRecv)");
  uint32_t groups, flags;
  int32_t rcvbuf, sndbuf;
  if (napi_get_value_uint32(env, argv[0], &groups) != napi_ok ||
      napi_get_value_int32(env, argv[1], &rcvbuf) != napi_ok ||
      napi_get_value_int32(env, argv[2], &sndbuf) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &flags) != napi_ok)
    return throw_type(env, "groups, rcvbuf, sndbuf and flags must be numbers");
  napi_valuetype t;
  napi_typeof(env, argv[4], &t);
  if (t != napi_function) return throw_type(env, "onRecv must be a function");

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, errno, "socket(AF_NETLINK)");
  set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
  set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf);
  if (flags & FLAG_EXT_ACK) set_nl_opt(fd, NETLINK_EXT_ACK);
  if (flags & FLAG_CAP_ACK) set_nl_opt(fd, NETLINK_CAP_ACK);
  if (flags & FLAG_STRICT) set_nl_opt(fd, NETLINK_GET_STRICT_CHK);

  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "bind(AF_NETLINK)");
  }
  socklen_t salen = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "getsockname");
  }

  nl_sock *s = calloc(1, sizeof *s);
  uint8_t *rbuf = malloc(RECV_BUF);
  if (s == NULL || rbuf == NULL) {
    free(s);
    free(rbuf);
    close(fd);
    return throw_errno(env, ENOMEM, "open");
  }
  s->fd = fd;
  s->port_id = sa.nl_pid;
  s->env = env;
  s->rbuf = rbuf;
  s->uv_closed = 1;
  uv_mutex_init(&s->mu);

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &s->poll, fd) != 0) {
    uv_mutex_destroy(&s->mu);
    free(rbuf);
    free(s);
    close(fd);
    return throw_errno(env, EINVAL, "uv_poll_init");
  }
  s->poll.data = s;
  s->polling = 1;
  s->uv_closed = 0;
  napi_create_reference(env, argv[4], 1, &s->on_recv);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "tsbgp:netlink", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->actx);
  uv_poll_start(&s->poll, UV_READABLE, on_poll);

  napi_value ext;
  napi_create_external(env, s, finalize_sock, NULL, &ext);
  return ext;
}

static int get_bytes(napi_env env, napi_value buf, napi_value lenv, const uint8_t **data, size_t *len) {
  void *p;
  size_t cap;
  uint32_t want;
  if (napi_get_buffer_info(env, buf, &p, &cap) != napi_ok) return -1;
  if (napi_get_value_uint32(env, lenv, &want) != napi_ok || want > cap) return -1;
  *data = p;
  *len = want;
  return 0;
}

static ssize_t send_to_kernel(int fd, const uint8_t *data, size_t len) {
  struct sockaddr_nl to;
  memset(&to, 0, sizeof to);
  to.nl_family = AF_NETLINK;
  ssize_t n;
  do {
    n = sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof to);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_sock *s = argc >= 3 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL) return throw_type(env, "send(handle, buf, len)");
  const uint8_t *data;
  size_t len;
  if (get_bytes(env, argv[1], argv[2], &data, &len) != 0) return throw_type(env, "buf must be a Buffer and len <= buf.length");
  if (s->closing) return make_int(env, -EBADF);
  return make_int(env, send_to_kernel(s->fd, data, len));
}

static void send_execute(napi_env env, void *data) {
  (void)env;
  nl_sock *s = ((send_run *)data)->s;
  for (;;) {
    uv_mutex_lock(&s->mu);
    send_item *it = s->pending_head;
    if (it == NULL) {
      s->worker_running = 0;
      uv_mutex_unlock(&s->mu);
      return;
    }
    s->pending_head = it->next;
    if (s->pending_head == NULL) s->pending_tail = NULL;
    uv_mutex_unlock(&s->mu);
    // fd is only closed once no worker is left (maybe_close_fd), so it is valid here.
    uint64_t t0 = uv_hrtime();
    it->result = s->closing ? -EBADF : send_to_kernel(s->fd, it->data, it->len);
    uint64_t dt = uv_hrtime() - t0;
    it->next = NULL;
    uv_mutex_lock(&s->mu);
    s->send_ns += dt;
    s->send_calls++;
    if (s->done_tail) s->done_tail->next = it;
    else s->done_head = it;
    s->done_tail = it;
    uv_mutex_unlock(&s->mu);
  }
}

static void send_complete(napi_env env, napi_status status, void *data) {
  send_run *run = data;
  nl_sock *s = run->s;
  (void)status;
  uv_mutex_lock(&s->mu);
  send_item *it = s->done_head;
  s->done_head = s->done_tail = NULL;
  uv_mutex_unlock(&s->mu);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  while (it != NULL) {
    send_item *next = it->next;
    napi_value cb, recv, arg, res;
    napi_get_reference_value(env, it->cb_ref, &cb);
    napi_get_undefined(env, &recv);
    napi_create_int64(env, it->result, &arg);
    napi_status st = napi_call_function(env, recv, cb, 1, &arg, &res);
    if (st == napi_pending_exception) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
    napi_delete_reference(env, it->buf_ref);
    napi_delete_reference(env, it->cb_ref);
    free(it);
    it = next;
  }
  napi_close_handle_scope(env, scope);
  napi_delete_async_work(env, run->work);
  free(run);
  s->sending--;
  maybe_close_fd(s);
  maybe_free(s);
}

static napi_value js_send_async(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_sock *s = argc >= 4 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL) return throw_type(env, "sendAsync(handle, buf, len, cb)");
  const uint8_t *data;
  size_t len;
  if (get_bytes(env, argv[1], argv[2], &data, &len) != 0) return throw_type(env, "buf must be a Buffer and len <= buf.length");
  napi_valuetype t;
  napi_typeof(env, argv[3], &t);
  if (t != napi_function) return throw_type(env, "cb must be a function");
  if (s->closing) return throw_errno(env, EBADF, "sendAsync");
  send_item *it = calloc(1, sizeof *it);
  if (it == NULL) return throw_errno(env, ENOMEM, "sendAsync");
  it->data = data;
  it->len = len;
  napi_create_reference(env, argv[1], 1, &it->buf_ref);  // the Buffer must outlive the send
  napi_create_reference(env, argv[3], 1, &it->cb_ref);
  uv_mutex_lock(&s->mu);
  if (s->pending_tail) s->pending_tail->next = it;
  else s->pending_head = it;
  s->pending_tail = it;
  int start = !s->worker_running;
  if (start) s->worker_running = 1;
  uv_mutex_unlock(&s->mu);
  if (start) {
    send_run *run = calloc(1, sizeof *run);
    if (run == NULL) return throw_errno(env, ENOMEM, "sendAsync");
    run->s = s;
    napi_value name;
    napi_create_string_utf8(env, "tsbgp:netlink:send", NAPI_AUTO_LENGTH, &name);
    napi_create_async_work(env, NULL, name, send_execute, send_complete, run, &run->work);
    s->sending++;
    napi_queue_async_work(env, run->work);
  }
  return make_undefined(env);
}

static napi_value js_add_membership(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_sock *s = argc >= 2 ? get_sock(env, argv[0]) : NULL;
  uint32_t group;
  if (s == NULL || napi_get_value_uint32(env, argv[1], &group) != napi_ok)
    return throw_type(env, "addMembership(handle, group)");
  if (s->closing) return make_int(env, -EBADF);
  int g = (int)group;
  if (setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g) < 0) return make_int(env, -errno);
  return make_int(env, 0);
}

// Classic BPF sees each queued skb from the nlmsghdr on. Notifications hold one
// message each; answers to this socket's own requests carry its own port id, so
// they always pass. Loads are big-endian: the host-order header fields are
// compared byte-swapped (the addon only runs on little-endian hosts).
static uint32_t bswap16c(uint32_t v) { return ((v & 0xff) << 8) | ((v >> 8) & 0xff); }

static napi_value js_drop_echoes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_sock *s = argc >= 2 ? get_sock(env, argv[0]) : NULL;
  uint32_t port;
  if (s == NULL || napi_get_value_uint32(env, argv[1], &port) != napi_ok)
    return throw_type(env, "dropEchoes(handle, portId)");
  if (s->closing) return make_int(env, -EBADF);
  struct sock_filter code[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, bswap16c(RTM_NEWROUTE), 4, 0),
      /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, bswap16c(RTM_DELROUTE), 3, 0),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, bswap16c(104 /* RTM_NEWNEXTHOP */), 2, 0),
      /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, bswap16c(105 /* RTM_DELNEXTHOP */), 1, 0),
      /* 5 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
      /* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __builtin_bswap32(port), 0, 1),
      /* 8 */ BPF_STMT(BPF_RET | BPF_K, 0),
      /* 9 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) return make_int(env, -errno);
  return make_int(env, 0);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_sock *s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL) return throw_type(env, "info(handle)");
  int rcv = 0, snd = 0;
  socklen_t l = sizeof rcv;
  if (!s->closing) {
    getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, &l);
    l = sizeof snd;
    getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &snd, &l);
  }
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "portId", make_int(env, s->port_id));
  napi_set_named_property(env, out, "rcvbuf", make_int(env, rcv));
  napi_set_named_property(env, out, "sndbuf", make_int(env, snd));
  uv_mutex_lock(&s->mu);
  uint64_t ns = s->send_ns, calls = s->send_calls;
  uv_mutex_unlock(&s->mu);
  napi_value ms;
  napi_create_double(env, (double)ns / 1e6, &ms);
  napi_set_named_property(env, out, "sendMs", ms);
  napi_set_named_property(env, out, "sends", make_int(env, (int64_t)calls));
  return out;
}

static napi_value js_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_sock *s = argc >= 2 ? get_sock(env, argv[0]) : NULL;
  bool on;
  if (s == NULL || napi_get_value_bool(env, argv[1], &on) != napi_ok) return throw_type(env, "ref(handle, bool)");
  if (!s->closing && s->polling) {
    if (on) uv_ref((uv_handle_t *)&s->poll);
    else uv_unref((uv_handle_t *)&s->poll);
  }
  return make_undefined(env);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_sock *s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (s == NULL) return throw_type(env, "close(handle)");
  do_close(env, s);
  return make_undefined(env);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendAsync", NULL, js_send_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addMembership", NULL, js_add_membership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dropEchoes", NULL, js_drop_echoes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ref", NULL, js_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
