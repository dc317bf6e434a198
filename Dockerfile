# The socketscope app image: analytics service and admin pages (`serve`), also
# able to run `demo`, `load` and `migrate`. Sources run through tsx, as in the repo.
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY web-sdk/package.json web-sdk/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN npm run --silent build -w @socketscope/web-sdk -- --quiet && node --import tsx src/admin/build.ts --quiet && node --import tsx src/demo/build.ts

FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
COPY web-sdk/package.json web-sdk/
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force
COPY bin bin
COPY src src
COPY web-sdk/src web-sdk/src
COPY --from=build /app/web-sdk/dist web-sdk/dist
COPY --from=build /app/src/admin/dist src/admin/dist
COPY --from=build /app/src/demo/dist src/demo/dist
COPY tsconfig.base.json tsconfig.json ./
USER node
EXPOSE 8080
CMD ["node", "bin/socketscope.js", "serve"]
