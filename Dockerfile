# syntax=docker/dockerfile:1

# Node 22 LTS (package.json asks for 20.18 or newer).
ARG NODE_VERSION=22

# Build: compile TypeScript to dist/.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies, the compiled app, its migrations and app manifest.
FROM node:${NODE_VERSION}-bookworm-slim
# The runner drives git and tmux, and runs every agent turn in a bubblewrap sandbox; git needs
# ca-certificates to fetch and push over HTTPS. The sandbox needs user namespaces: run the image
# with --security-opt seccomp=unconfined --security-opt apparmor=unconfined (see the README).
RUN apt-get update \
  && apt-get install -y --no-install-recommends git tmux bubblewrap ca-certificates \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY app.yml ./

# Embedded PGlite and agent workspaces live here unless DATABASE_URL / WORKSPACE_ROOT say otherwise.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node

EXPOSE 3000
# Slim images have no curl; Node's fetch does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli.js", "start"]
