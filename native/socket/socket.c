// tsbgp_socket: the few socket calls Node's net module cannot make.
//
// BGP needs options that must be in place before the SYN leaves (TCP_MD5SIG,
// RFC 2385; IP_TTL for eBGP single/multihop; IP_MINTTL for GTSM, RFC 5082) and
// a chosen local address. So we create the TCP socket here, set options and
// bind, and hand the fd to JS, which wraps it in a net.Socket and connects.
// The address family of a socket is read back with SO_DOMAIN, so no call takes
// a family argument. Errors are thrown as JS errors whose `code` is the errno
// name; key bytes are never copied into a message.
#include <node_api.h>

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

// Longest text address we accept: a full IPv6 address, '%', an interface name.
#define ADDR_MAX (INET6_ADDRSTRLEN + 1 + IF_NAMESIZE)

static napi_value throw_code(napi_env env, const char *code, int errnum,
                             const char *syscall, const char *message) {
  napi_value js_code, js_msg, err, val;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &js_msg);
  napi_create_error(env, js_code, js_msg, &err);
  if (errnum != 0) {
    // Same shape as Node's own system errors: negative errno, syscall name.
    napi_create_int32(env, -errnum, &val);
    napi_set_named_property(env, err, "errno", val);
  }
  if (syscall != NULL) {
    napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &val);
    napi_set_named_property(env, err, "syscall", val);
  }
  napi_throw(env, err);
  return NULL;
}

// Throws `what: <strerror> (<ENAME>)` with code ENAME.
static napi_value throw_errno(napi_env env, int errnum, const char *syscall,
                              const char *what) {
  char msg[256];
  const char *name = strerrorname_np(errnum);
  if (name == NULL) name = "EUNKNOWN";
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, strerror(errnum), name);
  return throw_code(env, name, errnum, syscall, msg);
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  return NULL;
}

static napi_value make_int(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static napi_value make_undefined(napi_env env) {
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

// Reads argv[i] as an integer in [lo, hi]; returns 0 on success.
static int arg_int(napi_env env, napi_value v, const char *name, int32_t lo,
                   int32_t hi, int32_t *out) {
  char msg[96];
  napi_valuetype t;
  double d;
  napi_typeof(env, v, &t);
  if (t != napi_number) {
    snprintf(msg, sizeof msg, "%s must be a number", name);
    throw_type(env, msg);
    return -1;
  }
  napi_get_value_double(env, v, &d);
  if (d != (double)(int64_t)d || d < lo || d > hi) {
    snprintf(msg, sizeof msg, "%s must be an integer from %d to %d", name, lo, hi);
    throw_range(env, msg);
    return -1;
  }
  *out = (int32_t)d;
  return 0;
}

static int arg_fd(napi_env env, napi_value v, int *fd) {
  return arg_int(env, v, "fd", 0, INT32_MAX, fd);
}

static int arg_addr(napi_env env, napi_value v, char *buf) {
  napi_valuetype t;
  size_t len = 0;
  napi_typeof(env, v, &t);
  if (t != napi_string) {
    throw_type(env, "address must be a string");
    return -1;
  }
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  if (len >= ADDR_MAX) {
    throw_code(env, "EINVAL", EINVAL, NULL, "address is too long to be an IP address");
    return -1;
  }
  napi_get_value_string_utf8(env, v, buf, ADDR_MAX, &len);
  return 0;
}

// AF_INET or AF_INET6 of an open socket, or -1 after throwing.
static int sock_domain(napi_env env, int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) {
    throw_errno(env, errno, "getsockopt", "cannot read the socket's address family");
    return -1;
  }
  if (domain != AF_INET && domain != AF_INET6) {
    throw_code(env, "EAFNOSUPPORT", EAFNOSUPPORT, NULL, "not an IPv4 or IPv6 socket");
    return -1;
  }
  return domain;
}

// Text address (IPv4, IPv6, IPv6%scope) to a sockaddr of the socket's family.
// An IPv4 address on an IPv6 socket becomes ::ffff:a.b.c.d, which is how the
// kernel matches IPv4 peers of a dual-stack socket (MD5 keys included).
static int parse_addr(napi_env env, const char *text, int domain, uint16_t port,
                      struct sockaddr_storage *ss, socklen_t *sslen) {
  char host[ADDR_MAX];
  const char *scope = NULL;
  struct in_addr a4;
  struct in6_addr a6;
  char *pct;

  memset(ss, 0, sizeof *ss);
  snprintf(host, sizeof host, "%s", text);
  pct = strchr(host, '%');
  if (pct != NULL) {
    *pct = '\0';
    scope = pct + 1;
  }

  if (inet_pton(AF_INET, host, &a4) == 1 && scope == NULL) {
    if (domain == AF_INET) {
      struct sockaddr_in *s = (struct sockaddr_in *)ss;
      s->sin_family = AF_INET;
      s->sin_port = htons(port);
      s->sin_addr = a4;
      *sslen = sizeof *s;
    } else {
      struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
      s->sin6_family = AF_INET6;
      s->sin6_port = htons(port);
      s->sin6_addr.s6_addr[10] = 0xff;
      s->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&s->sin6_addr.s6_addr[12], &a4, 4);
      *sslen = sizeof *s;
    }
    return 0;
  }
  if (inet_pton(AF_INET6, host, &a6) == 1) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    if (domain != AF_INET6) {
      throw_code(env, "EAFNOSUPPORT", EAFNOSUPPORT, NULL,
                 "an IPv6 address cannot be used on an IPv4 socket");
      return -1;
    }
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    s->sin6_addr = a6;
    if (scope != NULL && *scope != '\0') {
      char *end;
      unsigned long id = strtoul(scope, &end, 10);
      if (*end != '\0') id = if_nametoindex(scope);
      if (id == 0) {
        throw_code(env, "ENODEV", ENODEV, NULL, "unknown interface in the address scope");
        return -1;
      }
      s->sin6_scope_id = (uint32_t)id;
    }
    *sslen = sizeof *s;
    return 0;
  }
  throw_code(env, "EINVAL", EINVAL, NULL, "not an IPv4 or IPv6 address");
  return -1;
}

// socket(family: 4 | 6): number -- a non-blocking, close-on-exec TCP socket.
static napi_value js_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t family;
  int fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || arg_int(env, argv[0], "family", 4, 6, &family) != 0) {
    if (argc < 1) throw_type(env, "family must be 4 or 6");
    return NULL;
  }
  if (family != 4 && family != 6) return throw_range(env, "family must be 4 or 6");
  fd = socket(family == 4 ? AF_INET : AF_INET6,
              SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return throw_errno(env, errno, "socket", "cannot create a TCP socket");
  return make_int(env, fd);
}

// bind(fd, address, port, reuseAddr?): binds the local end before connect() or
// listen(). reuseAddr sets SO_REUSEADDR first, as Node does for its listeners, so
// a restarted daemon can listen while old connections sit in TIME_WAIT.
static napi_value js_bind(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  bool reuse = false;
  int fd, domain;
  int32_t port;
  char addr[ADDR_MAX];
  struct sockaddr_storage ss;
  socklen_t sslen;
  char msg[ADDR_MAX + 64];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return throw_type(env, "bind(fd, address, port)");
  if (arg_fd(env, argv[0], &fd) || arg_addr(env, argv[1], addr) ||
      arg_int(env, argv[2], "port", 0, 65535, &port))
    return NULL;
  if (argc >= 4) {
    napi_valuetype t;
    napi_typeof(env, argv[3], &t);
    if (t == napi_boolean) napi_get_value_bool(env, argv[3], &reuse);
    else if (t != napi_undefined) return throw_type(env, "reuseAddr must be a boolean");
  }
  if ((domain = sock_domain(env, fd)) < 0) return NULL;
  if (parse_addr(env, addr, domain, (uint16_t)port, &ss, &sslen) != 0) return NULL;
  if (reuse) {
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
      return throw_errno(env, errno, "setsockopt", "cannot set SO_REUSEADDR");
  }
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
    snprintf(msg, sizeof msg, "cannot bind to local address %s port %d", addr, port);
    return throw_errno(env, errno, "bind", msg);
  }
  return make_undefined(env);
}

// close(fd): for a socket never handed to Node (error paths).
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return throw_type(env, "close(fd)");
  if (arg_fd(env, argv[0], &fd)) return NULL;
  if (close(fd) != 0) return throw_errno(env, errno, "close", "cannot close the socket");
  return make_undefined(env);
}

// setMd5(fd, peerAddress, key?: Buffer): installs the RFC 2385 key for one peer,
// or removes it when key is missing or empty (ENOENT if there was none).
static napi_value js_set_md5(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int fd, domain, rc, saved;
  char addr[ADDR_MAX];
  struct tcp_md5sig sig;
  socklen_t sslen;
  void *data = NULL;
  size_t keylen = 0;
  char msg[ADDR_MAX + 96];

  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return throw_type(env, "setMd5(fd, address, key)");
  if (arg_fd(env, argv[0], &fd) || arg_addr(env, argv[1], addr)) return NULL;
  if (argc >= 3) {
    napi_valuetype t;
    bool isbuf = false;
    napi_typeof(env, argv[2], &t);
    if (t != napi_undefined && t != napi_null) {
      napi_is_buffer(env, argv[2], &isbuf);
      if (!isbuf) return throw_type(env, "key must be a Buffer");
      napi_get_buffer_info(env, argv[2], &data, &keylen);
    }
  }
  if (keylen > TCP_MD5SIG_MAXKEYLEN) {
    snprintf(msg, sizeof msg, "TCP MD5 key is too long: %zu bytes, at most %d", keylen,
             TCP_MD5SIG_MAXKEYLEN);
    return throw_code(env, "ERR_TSBGP_MD5_KEY_TOO_LONG", 0, NULL, msg);
  }
  if ((domain = sock_domain(env, fd)) < 0) return NULL;

  memset(&sig, 0, sizeof sig);
  if (parse_addr(env, addr, domain, 0, (struct sockaddr_storage *)&sig.tcpm_addr, &sslen) != 0) return NULL;
  sig.tcpm_keylen = (uint16_t)keylen;
  if (keylen > 0) memcpy(sig.tcpm_key, data, keylen);
  rc = setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig);
  saved = errno;
  // The key leaves no copy on our stack.
  memset(&sig, 0, sizeof sig);
  __asm__ __volatile__("" : : "r"(&sig) : "memory");
  if (rc != 0) {
    if (keylen == 0 && saved == ENOENT)
      snprintf(msg, sizeof msg, "no TCP MD5 key to remove for peer %s", addr);
    else
      snprintf(msg, sizeof msg, "cannot %s the TCP MD5 key for peer %s",
               keylen == 0 ? "remove" : "set", addr);
    return throw_errno(env, saved, "setsockopt", msg);
  }
  return make_undefined(env);
}

// Sets an int option at (level, name); on an IPv6 socket also the IPv4 twin so
// IPv4-mapped traffic of a dual-stack socket gets the same treatment.
static napi_value set_pair(napi_env env, napi_callback_info info, const char *what,
                           int32_t lo, int v4name, int v6name) {
  size_t argc = 2;
  napi_value argv[2];
  int fd, domain;
  int32_t val;
  char msg[96];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return throw_type(env, "expected (fd, value)");
  if (arg_fd(env, argv[0], &fd) || arg_int(env, argv[1], what, lo, 255, &val)) return NULL;
  if (val == 0 && lo < 0) return throw_range(env, "ttl must be from 1 to 255, or -1 for the default");
  if ((domain = sock_domain(env, fd)) < 0) return NULL;
  snprintf(msg, sizeof msg, "cannot set %s to %d", what, val);
  if (domain == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, v6name, &val, sizeof val) != 0)
      return throw_errno(env, errno, "setsockopt", msg);
    // Best effort: the IPv4 option on an IPv6 socket only matters for mapped peers.
    (void)setsockopt(fd, IPPROTO_IP, v4name, &val, sizeof val);
  } else if (setsockopt(fd, IPPROTO_IP, v4name, &val, sizeof val) != 0) {
    return throw_errno(env, errno, "setsockopt", msg);
  }
  return make_undefined(env);
}

static napi_value get_one(napi_env env, napi_callback_info info, const char *what,
                          int v4name, int v6name) {
  size_t argc = 1;
  napi_value argv[1];
  int fd, domain, val = 0;
  socklen_t len = sizeof val;
  char msg[64];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return throw_type(env, "expected (fd)");
  if (arg_fd(env, argv[0], &fd)) return NULL;
  if ((domain = sock_domain(env, fd)) < 0) return NULL;
  snprintf(msg, sizeof msg, "cannot read %s", what);
  if (getsockopt(fd, domain == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
                 domain == AF_INET6 ? v6name : v4name, &val, &len) != 0)
    return throw_errno(env, errno, "getsockopt", msg);
  return make_int(env, val);
}

// setTtl(fd, ttl 1..255, or -1 for the system default): IP_TTL /
// IPV6_UNICAST_HOPS of outgoing packets.
static napi_value js_set_ttl(napi_env env, napi_callback_info info) {
  return set_pair(env, info, "ttl", -1, IP_TTL, IPV6_UNICAST_HOPS);
}
static napi_value js_get_ttl(napi_env env, napi_callback_info info) {
  return get_one(env, info, "ttl", IP_TTL, IPV6_UNICAST_HOPS);
}
// setMinTtl(fd, ttl 0..255): GTSM; drop incoming packets with a lower TTL (0 = off).
static napi_value js_set_min_ttl(napi_env env, napi_callback_info info) {
  return set_pair(env, info, "minTtl", 0, IP_MINTTL, IPV6_MINHOPCOUNT);
}
static napi_value js_get_min_ttl(napi_env env, napi_callback_info info) {
  return get_one(env, info, "minTtl", IP_MINTTL, IPV6_MINHOPCOUNT);
}

// family(fd): 4 or 6.
static napi_value js_family(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd, domain;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return throw_type(env, "family(fd)");
  if (arg_fd(env, argv[0], &fd)) return NULL;
  if ((domain = sock_domain(env, fd)) < 0) return NULL;
  return make_int(env, domain == AF_INET6 ? 6 : 4);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"socket", NULL, js_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMd5", NULL, js_set_md5, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTtl", NULL, js_set_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getTtl", NULL, js_get_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMinTtl", NULL, js_set_min_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getMinTtl", NULL, js_get_min_ttl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"family", NULL, js_family, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
