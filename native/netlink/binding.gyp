{
  "targets": [
    {
      "target_name": "tsbgp_netlink",
      "sources": ["netlink.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["netlink.c"] }]
      ]
    }
  ]
}
