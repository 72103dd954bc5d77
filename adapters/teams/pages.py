"""The "about, privacy and terms" page a Teams app package must link to.

Teams requires https links for an app's website, privacy statement and terms of use. A
district running plcbot can point them at its own policies (``plcbot teams-manifest
--privacy-url ...``); by default they point here, at a short factual page served by plcbot
itself, so the links are never dead.
"""

from __future__ import annotations

from aiohttp import web

ABOUT_PATH = "/teams/about"

ABOUT_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>plcbot: about, privacy and terms</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1f2933; }
h1, h2 { color: #2e5e4e; }
</style>
</head>
<body>
<h1>plcbot</h1>
<p>plcbot helps teachers' professional learning communities run discussion protocols, reflect
on their practice, and follow through on the commitments they make to each other. Your school
or district runs this copy of plcbot on its own server.</p>

<h2 id="privacy">Privacy</h2>
<ul>
<li>plcbot keeps what you do with it (commands, protocol contributions, commitments and
reflections) in your district's own database, together with your Teams display name, Teams
user id and time zone.</li>
<li>In a channel it sees only messages that mention it, unless your Teams administrator gave
it permission to read the channel (they chose this when installing it).</li>
<li>Messages travel through Microsoft Teams. Nothing is sent to plcbot's authors or to anyone
else.</li>
<li>To see or remove what plcbot keeps about you, ask your school's or district's IT
contact: they run it.</li>
</ul>

<h2 id="terms">Terms of use</h2>
<p>plcbot is provided by your school or district for professional learning, under its usual
rules for staff use of its systems. The standards plcbot refers to are for growth, not for
evaluation: its summaries are never evaluations of educators.</p>
</body>
</html>
"""


async def about(_request: web.Request) -> web.Response:
    return web.Response(text=ABOUT_HTML, content_type="text/html")
