"""Database steps the browser tests need and no API offers (rightly): run by
``frontend/e2e/support.mjs`` as ``python -m tests.frontend.dbtool COMMAND DEV_JSON ARGS``.

``close-window DEV_JSON WA_ID``: end the 24-hour customer-service window of that customer's
conversations, as if their last message were a day old.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import asyncpg


def _url(dev_json: Path) -> str:
    url = str(json.loads(dev_json.read_text())["services"]["postgres"]["url"])
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def close_window(dev_json: Path, wa_id: str) -> int:
    connection = await asyncpg.connect(_url(dev_json))
    try:
        status = await connection.execute(
            "UPDATE conversations SET window_expires_at = now() - interval '1 minute' "
            "WHERE lead_id IN (SELECT id FROM leads WHERE wa_id = $1)",
            wa_id,
        )
    finally:
        await connection.close()
    return int(status.rsplit(" ", 1)[1])


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "close-window":
        sys.stderr.write(__doc__ or "")
        return 2
    changed = asyncio.run(close_window(Path(argv[1]), argv[2]))
    sys.stdout.write(f"{changed}\n")
    return 0 if changed else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
