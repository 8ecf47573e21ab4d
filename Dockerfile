# syntax=docker/dockerfile:1

# Build: compile TypeScript to dist/ with the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY bench ./bench
# `npm ci` runs `prepare`, which is `npm run build`.
RUN npm ci

# Run: production dependencies and the compiled code only, as a non-root user.
FROM node:20-slim
ENV NODE_ENV=production
# Node sizes its heap from the host's memory (4 GB here) and, with that much room, lets the heap
# grow to several times what is live before collecting: a busy worker peaks at 190-230 MB RSS.
# An explicit limit of 1 GB makes V8 grow the heap in smaller steps: 130-160 MB at the same
# throughput (npm run bench:pipeline; docs/operations.md, "Worker memory"), with ample room
# for large portfolios. It is a hard cap: raise it rather than lower it.
ENV NODE_OPTIONS="--max-old-space-size=1024"
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would try to compile, and dist/ comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples
USER node
EXPOSE 8080
# The API's liveness route; roles without the API (worker, scheduler) override or disable it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.BALLAST_API_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/ballast.js"]
CMD ["start"]
