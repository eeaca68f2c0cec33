"""Peer check for yuepin-labs: parse an iCalendar feed from stdin with Python's `icalendar`
and print a JSON object: calendar name and per VEVENT uid, summary, dtstart, dtend (UTC ISO),
status, description, location. Exit 3 when icalendar is not installed."""
import json
import sys

try:
    import icalendar
except ImportError:
    sys.exit(3)

raw = sys.stdin.buffer.read()
cal = icalendar.Calendar.from_ical(raw)
events = []
for ev in cal.walk("VEVENT"):
    assert ev.decoded("DTSTAMP") is not None
    events.append([
        str(ev.get("UID")),
        str(ev.get("SUMMARY")),
        ev.decoded("DTSTART").isoformat(),
        ev.decoded("DTEND").isoformat(),
        str(ev.get("STATUS")),
        str(ev.get("DESCRIPTION", "")),
        str(ev.get("LOCATION", "")),
    ])
print(json.dumps({"name": str(cal.get("X-WR-CALNAME")), "events": events}, ensure_ascii=False))
