"""Send one event to Samla over HTTP as your organisation (requests).

POST /v1/events with your organisation's bearer token; the body is one event or an
array of events as JSON (fields as in proto-events/schema/<kind>.json). The answer is an
array with one item per event: {"id", "seq", "duplicate"} or {"id", "error": {"code",
"field", "reason"}}. 202 if anything was stored; 422/409 if nothing was.

  SAMLA_API=http://127.0.0.1:8080/ SAMLA_TOKEN=samla_... SAMLA_ORG=radda-barnen \
  SAMLA_INCIDENT=malmo-mottagning python3 emit_http.py
"""
import datetime, json, os, sys, uuid

import requests


def main() -> int:
    org = os.environ["SAMLA_ORG"]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "id": str(uuid.uuid4()),  # keep it: a retry with the same id is never stored twice
        "kind": "need_raised", "v": 2,
        "incident": os.environ.get("SAMLA_INCIDENT", "malmo-mottagning"), "org": org,
        "function": "samordnare",  # a role, never a person's name
        "aggregate": {"type": "need", "id": f"need-{uuid.uuid4().hex[:12]}"},
        "occurred_at": now, "status": "actual", "audience": "network", "area": "1280",
        "payload": {"category": "clothing", "quantity": 25, "unit": "sets", "people": 25,
                    "urgency": "high", "note": "Vinterkläder till barn, storlek 110-140."},
    }
    api = os.environ.get("SAMLA_API", "http://127.0.0.1:8080/").rstrip("/")
    response = requests.post(f"{api}/v1/events", json=[event], timeout=30,
                             headers={"Authorization": f"Bearer {os.environ['SAMLA_TOKEN']}"})
    if response.status_code == 429 or response.status_code == 503:
        print(f"try again in {response.headers.get('Retry-After', '1')} s", file=sys.stderr)
        return 1
    answer = response.json()
    print(json.dumps(answer[0] if isinstance(answer, list) else answer))
    return 0 if response.status_code == 202 else 1


if __name__ == "__main__":
    sys.exit(main())
