#!/usr/bin/python3
"""A small Switchboard channel driver outside the server, in Python with the standard library only.

It brings SMS-like contacts to Switchboard and carries out the replies the server sends back:

- every line appended to a text file (the inbox) becomes a work item: "+351912345678 Olá ..." is
  an SMS from +351912345678; a line without a leading number is from "unknown";
- SMS-like JSON posted to it (--listen) becomes a work item too:
  POST /sms {"from": "+351912345678", "to": "4040", "text": "...", "id": "SM123"};
- every command it receives is printed on standard output; sendReply is "sent" (written to
  outbox.txt in the state folder) once per replyId, everything else is refused as unsupported.

It speaks the message format of docs/message.md over the server's plain HTTP endpoint for
drivers (docs/external-drivers.md): POST /v1/drivers/NAME/messages, long-poll GET
/v1/drivers/NAME/commands, POST /v1/drivers/NAME/errors.

Nothing is acknowledged before the server has committed it: the inbox position advances, and a
posted SMS is answered 202, only after the server answered ok or duplicate. After an error or no
answer the same contact is sent again, with the same sourceKey.

Run it: see README.md beside it.
"""

import argparse
import hashlib
import http.client
import http.server
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

NS = "urn:switchboard:message:v1"
VERSION = re.compile(r"^1\.[0-9]{1,3}$")
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_DOCUMENT = 1 << 20


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def text(value):
    """Element content: escaped, without the control characters XML cannot carry."""
    return escape(CONTROL.sub("\ufffd", value))


def attr(value):
    return quoteattr(CONTROL.sub("\ufffd", value).replace("\n", " "))


def say(*parts):
    print(*parts, flush=True)


class Unavailable(Exception):
    """The server did not answer, or answered with an error that says: try again later."""


class Driver:
    def __init__(self, options):
        self.options = options
        parsed = urllib.parse.urlsplit(options.url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise SystemExit("driver: --url must be http://HOST:PORT (got %r)" % options.url)
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.base = "/v1/drivers/" + urllib.parse.quote(options.name, safe="")
        self.sequence = 0
        self.lock = threading.Lock()
        self.registered = threading.Event()
        self.stopping = threading.Event()
        self.last_sent = time.monotonic()
        self.next_attempt = 0.0
        os.makedirs(options.state, exist_ok=True)
        self.offset_file = os.path.join(options.state, "inbox.offset")
        self.replies_file = os.path.join(options.state, "replies.json")
        self.outbox_file = os.path.join(options.state, "outbox.txt")
        self.replies = set()
        if os.path.exists(self.replies_file) and not options.forget_replies:
            with open(self.replies_file, encoding="utf-8") as f:
                self.replies = set(json.load(f))

    # ------------------------------------------------------------------ the message format

    def next_id(self):
        with self.lock:
            self.sequence += 1
            return "%s.%x-%d" % (self.options.name, int(time.time() * 1000), self.sequence)

    def envelope(self, body, correlation=None, addressee=None):
        correlation_attr = " correlationId=%s" % attr(correlation) if correlation else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<message xmlns="%s" version="1.0" id=%s time="%s"%s>'
            '<sender type="driver" id=%s/><addressee type="server" id=%s/>%s</message>'
            % (NS, attr(self.next_id()), now(), correlation_attr, attr(self.options.name),
               attr(addressee or self.options.server_id), body)
        )

    def arrival(self, source_key, sender, body, contact_point, extra=()):
        attributes = "".join(
            '<attribute name=%s>%s</attribute>' % (attr(name), text(value)) for name, value in extra
        )
        return self.envelope(
            '<workItem medium=%s created="%s" sourceKey=%s>'
            '<customer><address kind="phone">%s</address></customer>'
            '<contactPoint kind="phone">%s</contactPoint>'
            '<body type="text/plain">%s</body>%s</workItem>'
            "<notification><workItemArrived/></notification>"
            % (attr(self.options.medium), now(), attr(source_key), text(sender),
               text(contact_point), text(body), attributes)
        )

    @staticmethod
    def parse(document):
        """The message element, or a ValueError saying why the document is not one."""
        if len(document) > MAX_DOCUMENT:
            raise ValueError("the document is larger than %d bytes" % MAX_DOCUMENT)
        head = document[:4096].upper()
        if b"<!DOCTYPE" in head or b"<!ENTITY" in document.upper():
            raise ValueError("a DOCTYPE or an entity is not allowed in a message")
        try:
            root = ET.fromstring(document)
        except ET.ParseError as e:
            raise ValueError("not well-formed: %s" % e)
        if root.tag != "{%s}message" % NS:
            raise ValueError("the root element is %s, not a message of %s" % (root.tag, NS))
        if not VERSION.match(root.get("version", "")):
            raise ValueError("version %r is not 1.x" % root.get("version"))
        if not root.get("id"):
            raise ValueError("the message has no id")
        return root

    @staticmethod
    def payload(root):
        response = root.find("{%s}response" % NS)
        if response is not None:
            return "response", response.get("kind"), response
        for category in ("command", "request", "notification"):
            element = root.find("{%s}%s" % (NS, category))
            if element is not None and len(element):
                child = element[0]
                return category, child.tag.split("}")[-1], child
        return None, None, None

    # ------------------------------------------------------------------ HTTP to the server

    def http(self, method, path, body=None, content_type="application/xml", timeout=30):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Authorization": "Bearer " + self.options.key}
            if body is not None:
                headers["Content-Type"] = content_type
                if isinstance(body, str):
                    body = body.encode("utf-8")
            connection.request(method, self.base + path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def post(self, document):
        """Posts a message; the response element (None for 204), or raises Unavailable."""
        try:
            status, body = self.http("POST", "/messages", document)
        except OSError as e:
            raise Unavailable("the server did not answer: %s" % e)
        self.last_sent = time.monotonic()
        if status == 204:
            return None
        if status != 200:
            raise Unavailable("HTTP %d: %s" % (status, body[:300].decode("utf-8", "replace")))
        root = self.parse(body)
        category, _, response = self.payload(root)
        if category != "response":
            raise Unavailable("the server answered with a %s, not a response" % category)
        error = response.find("{%s}error" % NS)
        code = error.get("code") if error is not None else None
        if code == "notRegistered":
            self.registered.clear()
        return root, response.get("status"), code, (error.text or "") if error is not None else ""

    def register(self):
        document = self.envelope(
            '<request><registerDriver driver=%s media=%s software="switchboard-sample-driver/1.0'
            ' (python)"/></request>' % (attr(self.options.name), attr(self.options.medium))
        )
        _, status, code, reason = self.post(document)
        if status != "ok":
            raise Unavailable("registration refused: %s %s" % (code, reason))
        self.registered.set()
        say("registered as %s (medium %s) at %s" % (self.options.name, self.options.medium,
                                                    self.options.url))

    def submit(self, document):
        """Sends an arrival until the server commits it: the committed work item's id."""
        while not self.stopping.is_set():
            try:
                if not self.registered.is_set():
                    self.register()
                answer = self.post(document)
                if answer is None:
                    raise Unavailable("no response document")
                root, status, code, reason = answer
                if status in ("ok", "duplicate"):
                    item = root.find("{%s}workItem" % NS)
                    return (item.get("id") if item is not None else None), status
                if code in ("notRegistered",):
                    continue
                if code in ("storeUnavailable", "crmUnavailable"):
                    raise Unavailable("%s: %s" % (code, reason))
                # An error that retrying does not help: keep the contact aside and go on.
                say("refused by the server: %s: %s" % (code, reason))
                return None, "error"
            except (Unavailable, ValueError) as e:
                say("will send again: %s" % e)
                self.stopping.wait(self.options.retry)
        raise Unavailable("stopping")

    # ------------------------------------------------------------------ commands

    def respond(self, command, kind, status, code=None, reason=""):
        error = '<error code=%s>%s</error>' % (attr(code), text(reason)) if code else ""
        document = self.envelope(
            '<response kind=%s status="%s">%s</response>' % (attr(kind), status, error),
            correlation=command.get("id"),
            addressee=self.server_of(command),
        )
        self.post(document)

    def server_of(self, command):
        sender = command.find("{%s}sender" % NS)
        return sender.get("id") if sender is not None else self.options.server_id

    def handle(self, document):
        try:
            root = self.parse(document)
        except ValueError as e:
            say("UNREADABLE command: %s" % e)
            self.http("POST", "/errors", str(e), content_type="text/plain; charset=utf-8")
            return
        category, kind, element = self.payload(root)
        attributes = " ".join("%s=%s" % item for item in sorted(element.attrib.items())) \
            if element is not None else ""
        say("COMMAND %s %s %s" % (category, kind, attributes))
        if category == "request" and kind == "ping":
            self.respond(root, "ping", "ok")
        elif category == "command" and kind == "sendReply":
            self.send_reply(root, element)
        elif category in ("command", "request"):
            self.respond(root, kind, "error", "unsupported",
                         "the sample SMS driver carries out sendReply only")
        else:
            say("ignored: a %s is not answered" % category)

    def send_reply(self, root, element):
        reply_id = element.get("replyId")
        if reply_id in self.replies:
            self.respond(root, "sendReply", "duplicate")
            return
        to = [e.text for e in element.findall("{%s}to" % NS)]
        if not to:
            # No recipient means the customer's address on the item's medium: ask the server.
            to = self.customer_phones(element.get("workItem"))
        if not to:
            self.respond(root, "sendReply", "error", "invalidAddress",
                         "no recipient given, and work item %s has no phone number"
                         % element.get("workItem"))
            return
        body = element.find("{%s}body" % NS)
        message = body.text if body is not None and body.text else ""
        say("SMS to %s (reply %s, work item %s): %s"
            % (", ".join(to), reply_id, element.get("workItem"), message.replace("\n", " / ")))
        # Taken on durably before the answer ok: the outbox, then the replyId.
        with open(self.outbox_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"replyId": reply_id, "workItem": element.get("workItem"),
                                "to": to, "text": message}, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if not self.options.forget_replies:
            self.replies.add(reply_id)
            self.write_atomically(self.replies_file, json.dumps(sorted(self.replies)))
        self.respond(root, "sendReply", "ok")
        report = self.envelope(
            '<notification><deliveryReport workItem=%s replyId=%s outcome="sent"/></notification>'
            % (attr(element.get("workItem")), attr(reply_id)),
            correlation=root.get("id"),
        )
        try:
            self.post(report)
        except (Unavailable, ValueError) as e:
            say("delivery report not sent: %s" % e)

    def customer_phones(self, work_item):
        try:
            answer = self.post(self.envelope(
                "<request><getWorkItem workItem=%s/></request>" % attr(work_item)))
        except (Unavailable, ValueError) as e:
            say("getWorkItem failed: %s" % e)
            return []
        if answer is None or answer[1] != "ok":
            return []
        return [address.text for address in answer[0].iterfind(
            "{%s}workItem/{%s}customer/{%s}address" % (NS, NS, NS))
            if address.get("kind") == "phone" and address.text]

    def poll_commands(self):
        while not self.stopping.is_set():
            if not self.registered.wait(1):
                continue
            try:
                status, body = self.http("GET", "/commands?wait=%d" % self.options.poll,
                                         timeout=self.options.poll + 15)
                if status == 200:
                    self.handle(body)
                elif status == 409:
                    self.registered.clear()
                elif status != 204:
                    say("polling: HTTP %d" % status)
                    self.stopping.wait(self.options.retry)
            except (OSError, Unavailable, ValueError) as e:
                say("polling failed: %s" % e)
                self.stopping.wait(self.options.retry)

    # ------------------------------------------------------------------ contacts

    @staticmethod
    def write_atomically(path, content):
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)

    def read_offset(self):
        try:
            with open(self.offset_file, encoding="utf-8") as f:
                return int(f.read().strip() or 0)
        except FileNotFoundError:
            return 0

    def watch_inbox(self):
        path = self.options.inbox
        offset = self.read_offset()
        while not self.stopping.is_set():
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    while not self.stopping.is_set():
                        start = f.tell()
                        raw = f.readline()
                        if not raw.endswith(b"\n"):
                            f.seek(start)  # a line still being written
                            break
                        line = raw.decode("utf-8", "replace").strip()
                        if line:
                            self.take_line(line, start)
                        offset = f.tell()
                        self.write_atomically(self.offset_file, str(offset))
            except FileNotFoundError:
                pass
            except Unavailable:
                return
            self.heartbeat()
            self.stopping.wait(self.options.interval)

    def take_line(self, line, position):
        sender, _, body = line.partition(" ")
        if not re.match(r"^\+?[0-9]{3,20}$", sender):
            sender, body = "unknown", line
        digest = hashlib.sha256(line.encode("utf-8")).hexdigest()[:16]
        key = "%s:%d:%s" % (os.path.basename(self.options.inbox).replace(" ", "_"), position,
                            digest)
        item, status = self.submit(self.arrival(key, sender, body or line,
                                                self.options.contact_point))
        say("line at byte %d -> work item %s (%s)" % (position, item, status))

    def heartbeat(self):
        """Registers again as soon as the server forgot the driver; pings when idle."""
        now = time.monotonic()
        registered = self.registered.is_set()
        if now < self.next_attempt or (registered and now - self.last_sent < self.options.heartbeat):
            return
        try:
            if not registered:
                self.register()
            else:
                self.post(self.envelope("<request><ping/></request>"))
        except (Unavailable, ValueError) as e:
            say("heartbeat failed: %s" % e)
            self.next_attempt = now + self.options.retry

    # ------------------------------------------------------------------ SMS over HTTP

    def serve_sms(self):
        driver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, status, content):
                data = json.dumps(content).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                if self.path != "/sms":
                    return self.answer(404, {"error": "POST SMS to /sms"})
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0 or length > 65536:
                    return self.answer(413 if length else 411, {"error": "1 to 65536 bytes"})
                try:
                    sms = json.loads(self.rfile.read(length))
                    sender, body = str(sms["from"]), str(sms["text"])
                    if not sender or not body:
                        raise ValueError("from and text must not be empty")
                except (ValueError, KeyError, TypeError) as e:
                    return self.answer(400, {"error": "want {from, text, to?, id?}: %s" % e})
                key = str(sms.get("id") or "") or "sms:" + hashlib.sha256(
                    json.dumps(sms, sort_keys=True).encode("utf-8")).hexdigest()[:32]
                if re.search(r"\s", key):
                    return self.answer(400, {"error": "id must not contain white space"})
                extra = [("sms.messageSid", key)] if sms.get("id") else []
                try:
                    item, status = driver.submit(driver.arrival(
                        key, sender, body, str(sms.get("to") or driver.options.contact_point),
                        extra))
                except Unavailable as e:
                    return self.answer(503, {"error": str(e)})
                if status == "error":
                    return self.answer(422, {"error": "refused by the server"})
                self.answer(202, {"workItem": item, "status": status})

            def log_message(self, *args):
                pass

        host, _, port = self.options.listen.rpartition(":")
        server = http.server.ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
        say("taking SMS at http://%s:%d/sms" % server.server_address[:2])
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--url", default=env("SWITCHBOARD_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--name", default=env("SWITCHBOARD_DRIVER", "sms-gw"))
    parser.add_argument("--key", default=env("SWITCHBOARD_KEY"))
    parser.add_argument("--key-file")
    parser.add_argument("--server-id", default=env("SWITCHBOARD_SERVER_ID", "sb-1"))
    parser.add_argument("--inbox", default="inbox.txt", help="text file: one contact per line")
    parser.add_argument("--state", default="driver-state", help="folder for what it must keep")
    parser.add_argument("--listen", help="HOST:PORT to take SMS as JSON (POST /sms)")
    parser.add_argument("--medium", default="sms")
    parser.add_argument("--contact-point", default="4040", help="our number the SMS went to")
    parser.add_argument("--interval", type=float, default=0.2, help="inbox poll, seconds")
    parser.add_argument("--heartbeat", type=float, default=20, help="ping when idle, seconds")
    parser.add_argument("--poll", type=int, default=20, help="long-poll wait, seconds")
    parser.add_argument("--retry", type=float, default=1, help="wait before retrying, seconds")
    parser.add_argument("--forget-replies", action="store_true",
                        help="misbehave: send a reply again for a repeated replyId (to see the "
                             "conformance kit fail)")
    options = parser.parse_args()
    if options.key_file:
        with open(options.key_file, encoding="utf-8") as f:
            options.key = f.read().strip()
    if not options.key:
        parser.error("the driver's key is needed: --key, --key-file or SWITCHBOARD_KEY")

    driver = Driver(options)
    signal.signal(signal.SIGTERM, lambda *_: driver.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: driver.stopping.set())
    sms = driver.serve_sms() if options.listen else None
    poller = threading.Thread(target=driver.poll_commands, daemon=True)
    poller.start()
    while not driver.stopping.is_set():
        try:
            driver.register()
            break
        except (Unavailable, ValueError) as e:
            say("cannot register yet: %s" % e)
            driver.stopping.wait(options.retry)
    driver.watch_inbox()
    if sms:
        sms.shutdown()
    say("stopped")


if __name__ == "__main__":
    sys.exit(main())
