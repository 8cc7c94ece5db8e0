"""Send one event to Samla over NATS as your organisation (nats-py + msgpack).

The event is a MessagePack map with the fields of proto-events/schema/need_raised.json
(envelope fields at the top, the kind's fields under "payload"). The ingest service
answers with one item per event: {"id", "seq", "duplicate"} or {"id", "error"}.

  SAMLA_NATS_URL=nats://127.0.0.1:4222 SAMLA_ORG=radda-barnen \
  SAMLA_NATS_PASSWORD=... SAMLA_INCIDENT=malmo-mottagning python3 emit_nats.py
"""
import asyncio, datetime, json, os, sys, uuid

import msgpack
import nats


async def main() -> int:
    org = os.environ["SAMLA_ORG"]
    incident = os.environ.get("SAMLA_INCIDENT", "malmo-mottagning")
    user = os.environ.get("SAMLA_NATS_USER", f"org-{org}")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "id": str(uuid.uuid4()),  # keep it: a retry with the same id is never stored twice
        "kind": "need_raised", "v": 2,
        "incident": incident, "org": org,
        "function": "samordnare",  # a role, never a person's name
        "aggregate": {"type": "need", "id": f"need-{uuid.uuid4().hex[:12]}"},
        "occurred_at": now, "status": "actual", "audience": "network", "area": "1280",
        "payload": {"category": "food", "quantity": 40, "unit": "meals", "people": 40,
                    "urgency": "normal", "note": "Kvällsmat till nyanlända på Hyllie."},
    }
    client = await nats.connect(os.environ["SAMLA_NATS_URL"], user=user,
                                password=os.environ["SAMLA_NATS_PASSWORD"],
                                inbox_prefix=f"_INBOX_{user.removeprefix('org-')}")
    try:
        reply = await client.request(f"samla.ingest.{incident}.{org}",
                                     msgpack.packb([event]), timeout=10)
    finally:
        await client.close()
    answers = msgpack.unpackb(reply.data)
    print(json.dumps(answers[0]))
    return 0 if "seq" in answers[0] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
