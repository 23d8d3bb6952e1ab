// better-auth on SQLite, as its documentation sets it up for email and password: the peer the
// load test measures polyauth against. Usage: node server.mjs <port> <sqlite file>
import { betterAuth } from "better-auth";
import { toNodeHandler } from "better-auth/node";
import { getMigrations } from "better-auth/db/migration";
import Database from "better-sqlite3";
import http from "node:http";

const [port, file] = process.argv.slice(2);
const origin = `http://127.0.0.1:${port}`;
const auth = betterAuth({
  database: new Database(file),
  emailAndPassword: { enabled: true },
  secret: "polyauth-load-test-peer-secret-0123456789abcdef",
  baseURL: origin,
  trustedOrigins: [origin],
  // One machine is one address: its limiter would measure its own 429s (polyauth's are raised too).
  rateLimit: { enabled: false },
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();
http.createServer(toNodeHandler(auth)).listen(Number(port), "127.0.0.1");
