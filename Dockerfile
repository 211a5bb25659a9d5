# tsbgpd image: build (TypeScript + the two native addons), then a slim runtime with
# only production dependencies. The daemon needs iproute2 for nothing at run time
# (routes go over rtnetlink from the addon); the CLI `tsbgp` is included for
# `kubectl exec … -- tsbgp neighbors`.
#   docker build -t ghcr.io/tsbgp/tsbgpd:0.1.0 .
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
COPY native ./native
# `npm ci` runs the install script, which builds native/socket and native/netlink.
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
# Only the daemon and CLI sources: tests, benchmarks and the demo stay out of the image.
RUN printf '{"extends":"./tsconfig.json","include":["src/**/*.ts"]}' > tsconfig.image.json \
 && npx tsc -p tsconfig.image.json \
 && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
WORKDIR /opt/tsbgp
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/native/socket/build/Release/tsbgp_socket.node ./native/socket/build/Release/tsbgp_socket.node
COPY --from=build /src/native/netlink/build/Release/tsbgp_netlink.node ./native/netlink/build/Release/tsbgp_netlink.node
RUN ln -s /opt/tsbgp/dist/src/bin/tsbgp.js /usr/local/bin/tsbgp \
 && chmod +x /opt/tsbgp/dist/src/bin/tsbgp.js /opt/tsbgp/dist/src/bin/tsbgpd.js
ENV NODE_ENV=production
# Metrics, /healthz and /readyz (the DaemonSet passes --metrics-address).
EXPOSE 9179
ENTRYPOINT ["node", "--max-semi-space-size=4", "/opt/tsbgp/dist/src/bin/tsbgpd.js"]
CMD ["--help"]
