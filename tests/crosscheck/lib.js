'use strict';
// Shared stdin/stdout plumbing for the cross-check scripts: read one JSON request (or an array
// of them) on stdin, answer each with handler(request), print the JSON answer(s) on stdout.
function serve(handler) {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const one = (req) => {
      try {
        return handler(req);
      } catch (e) {
        return { error: String(e && e.stack ? e.stack : e) };
      }
    };
    const out = Array.isArray(input) ? input.map(one) : one(input);
    process.stdout.write(JSON.stringify(out));
  });
}
module.exports = { serve };
