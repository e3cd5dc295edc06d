# syntax=docker/dockerfile:1
# Build stage: compile TypeScript and better-sqlite3, then drop dev dependencies.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Runtime stage: no compiler, no dev dependencies, not root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY sql ./sql
COPY config ./config
COPY ivr ./ivr
COPY dashboard ./dashboard
# Inside a container the API must listen on all interfaces to be reachable through a published port.
RUN sed -i '0,/^host = "127.0.0.1"/s//host = "0.0.0.0"/' config/engine.toml \
    && mkdir -p /app/data && chown -R node:node /app/data
USER node
# Ratings live in data/; mount your own config/ and ivr/ over the shipped ones.
VOLUME ["/app/data", "/app/config", "/app/ivr"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "dist/bin.js"]
CMD ["start"]
