# syntax=docker/dockerfile:1

# Build: compile TypeScript to dist/ with the dev dependencies.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY bench ./bench
# `npm ci` runs `prepare`, which is `npm run build`.
RUN npm ci

# Run: production dependencies and the compiled code only, as a non-root user.
FROM node:24-slim
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
# Inside a container the API must listen beyond loopback to be reachable through EXPOSE / -p;
# the bearer token still guards it: `docker run -e BALLAST_API_TOKEN=$(openssl rand -hex 24) ...`
# (16+ characters). Without a token, `start` refuses to start the API: run `start --no-api`
# (worker and scheduler only) or one of the other roles (`worker`, `scheduler`).
ENV BALLAST_API_HOST=0.0.0.0
EXPOSE 8080
# Fits whichever role the container runs: Redis answers, and this container's role is alive
# (worker, scheduler and start refresh a heartbeat key in Redis every 10 s; the API answers
# /healthz). `ballast health --role <role>` insists on one role (docker-compose.yml does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/bin/ballast.js", "health"]
ENTRYPOINT ["node", "bin/ballast.js"]
CMD ["start"]
