// rtnetlink code points (linux/netlink.h, linux/rtnetlink.h, linux/nexthop.h,
// linux/if_link.h, linux/if_addr.h). Netlink integers are in host byte order;
// tsbgp runs on little-endian Linux (x86-64, arm64), checked in addon.ts.

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const RTMSG_LEN = 12;
export const NHMSG_LEN = 8;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTNH_LEN = 8; // struct rtnexthop
export const NH_GRP_LEN = 8; // struct nexthop_grp

export const NlMsgType = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

export const NlmF = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  // GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // flags of an NLMSG_ERROR reply
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

export const NlmsgErrAttr = { MSG: 1, OFFS: 2, COOKIE: 3 } as const;

export const Rtm = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEXTHOP: 104,
  DELNEXTHOP: 105,
  GETNEXTHOP: 106,
} as const;

export const Rta = {
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  TABLE: 15,
  VIA: 18,
  PREF: 20,
  NH_ID: 30,
} as const;

export const Rtn = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
} as const;

export const RtScope = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

export const RtProt = { UNSPEC: 0, KERNEL: 2, BOOT: 3, STATIC: 4, BGP: 186 } as const;

export const RtTable = { UNSPEC: 0, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

export const RtnhF = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16, UNRESOLVED: 32 } as const;

export const Nha = {
  ID: 1,
  GROUP: 2,
  GROUP_TYPE: 3,
  BLACKHOLE: 4,
  OIF: 5,
  GATEWAY: 6,
  ENCAP_TYPE: 7,
  ENCAP: 8,
  GROUPS: 9,
  MASTER: 10,
  FDB: 11,
} as const;

export const Ifla = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, OPERSTATE: 16 } as const;

export const Iff = {
  UP: 0x1,
  BROADCAST: 0x2,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  RUNNING: 0x40,
  NOARP: 0x80,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
} as const;

export const IfOper = {
  UNKNOWN: 0,
  NOTPRESENT: 1,
  DOWN: 2,
  LOWERLAYERDOWN: 3,
  TESTING: 4,
  DORMANT: 5,
  UP: 6,
} as const;

export const IFOPER_NAMES: readonly string[] = [
  'unknown',
  'notpresent',
  'down',
  'lowerlayerdown',
  'testing',
  'dormant',
  'up',
];

export const Ifa = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;

export const IfaF = {
  SECONDARY: 0x1,
  NODAD: 0x2,
  DADFAILED: 0x8,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  NOPREFIXROUTE: 0x200,
} as const;

export const AddrFamily = { UNSPEC: 0, INET: 2, INET6: 10 } as const;

/** Legacy multicast group bits for bind(). */
export const RtmGrp = {
  LINK: 0x1,
  IPV4_IFADDR: 0x10,
  IPV4_ROUTE: 0x40,
  IPV6_IFADDR: 0x100,
  IPV6_ROUTE: 0x400,
} as const;

/** Group numbers for NETLINK_ADD_MEMBERSHIP (those above 32 have no bind() bit). */
export const RtnlGrp = { LINK: 1, IPV4_IFADDR: 5, IPV4_ROUTE: 7, IPV6_IFADDR: 9, IPV6_ROUTE: 11, NEXTHOP: 32 } as const;

/** Socket option flags understood by the addon's open(). */
export const SockFlag = { EXT_ACK: 1, CAP_ACK: 2, STRICT_CHK: 4 } as const;

/** The errno values rtnetlink answers with, by number (Linux generic values). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENOBUFS: 105,
  ECANCELED: 125,
  EHOSTUNREACH: 113,
} as const;

const ERRNO_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Errno).map(([k, v]) => [v, k]),
);

/** 'EEXIST' for 17; 'E<n>' for numbers not in the table. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}
