// A webhook receiver for the server's tests: verifies every delivery with the official
// `standardwebhooks` package (not the project's own code) and records what it accepted.
//
//   node webhook_receiver.mjs <whsec_secret>   → prints "listening <port>"
//
// POST /hook          a delivery: 204 if the signature verifies (and the mode is "up"),
//                     400 if it does not; "down" answers 503, "hang" never answers,
//                     "redirect" answers 307 to /elsewhere.
// PUT  /mode/<mode>   up | down | hang | redirect
// GET  /received      {"accepted":[{"id","body","raw","headers"}],"rejected":N,"elsewhere":N,"redirected":N}
//                     (raw and headers: what arrived, for replaying it in the reliability suite)
import http from "node:http";
import { Webhook } from "standardwebhooks";

const secret = process.argv[2];
const wh = new Webhook(secret.replace(/^whsec_/, ""));
let mode = "up";
const accepted = [];
let rejected = 0;
let elsewhere = 0;
let redirected = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    if (req.method === "PUT" && req.url.startsWith("/mode/")) {
      mode = req.url.slice("/mode/".length);
      res.writeHead(204).end();
    } else if (req.method === "GET" && req.url === "/received") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ accepted, rejected, elsewhere, redirected }));
    } else if (req.url === "/elsewhere") {
      elsewhere += 1;
      res.writeHead(204).end();
    } else if (req.method === "POST" && req.url === "/hook") {
      if (mode === "hang") return;
      if (mode === "down") return res.writeHead(503).end();
      if (mode === "redirect") {
        redirected += 1;
        return res.writeHead(307, { location: "/elsewhere" }).end();
      }
      let payload;
      try {
        payload = wh.verify(body, req.headers);
      } catch (e) {
        rejected += 1;
        return res.writeHead(400).end(String(e));
      }
      const headers = {
        "webhook-id": req.headers["webhook-id"],
        "webhook-timestamp": req.headers["webhook-timestamp"],
        "webhook-signature": req.headers["webhook-signature"],
      };
      accepted.push({ id: req.headers["webhook-id"], body: payload, raw: body, headers });
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
