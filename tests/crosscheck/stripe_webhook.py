"""Stripe webhook signatures through the official `stripe` package (PyPI).

Reads one JSON request (or an array of them) on stdin, prints the answer(s) on stdout:
  {"op": "generate", "payload", "secret", "timestamp"}            -> {"header"}
  {"op": "verify", "payload", "header", "secret", "tolerance"}     -> {"ok", "error"?}
  {"op": "construct_event", "payload", "header", "secret", "tolerance"} -> {"ok", "id"?, "error"?}
"""

import json
import sys

import stripe


def handle(req):
    op = req["op"]
    if op == "generate":
        header = stripe.WebhookSignature.generate_signature_header(
            req["payload"], req["secret"], timestamp=req["timestamp"]
        )
        return {"header": header}
    if op == "verify":
        try:
            stripe.WebhookSignature.verify_header(
                req["payload"], req["header"], req["secret"], tolerance=req.get("tolerance")
            )
            return {"ok": True}
        except stripe.SignatureVerificationError as e:
            return {"ok": False, "error": str(e)}
    if op == "construct_event":
        try:
            event = stripe.Webhook.construct_event(
                req["payload"], req["header"], req["secret"], tolerance=req.get("tolerance", 300)
            )
            return {"ok": True, "id": event["id"]}
        except stripe.SignatureVerificationError as e:
            return {"ok": False, "error": str(e)}
    raise ValueError("unknown op %r" % op)


def main():
    data = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = [handle(r) for r in data] if isinstance(data, list) else handle(data)
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
