"""An SMTP sink for Switchboard's tests: aiosmtpd on loopback, each mail written to a folder.

Run with Debian's interpreter (it sees python3-aiosmtpd):

    /usr/bin/python3 tests/support/smtp_sink.py --port PORT --dir FOLDER
        [--cert PEM --key PEM [--implicit-tls]] [--user NAME --password SECRET]
        [--delay-rcpt SECONDS] [--fail-data N]

Each mail accepted becomes FOLDER/NNNNNN.eml (written to a temporary name, then renamed): the
envelope and session as X-Sink-* lines, then the mail exactly as received. "ready" on standard
output means it listens. It stops on SIGTERM or when its standard input closes, so that it never
outlives the test that started it.
"""

import argparse
import asyncio
import itertools
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class FolderHandler:
    def __init__(self, folder, delay_rcpt, fail_data):
        self.folder = folder
        self.delay_rcpt = delay_rcpt
        self.fail_data = fail_data
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay_rcpt > 0:
            await asyncio.sleep(self.delay_rcpt)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_data > 0:
            self.fail_data -= 1
            return "451 4.3.0 Try again later (test sink)"
        number = next(self.counter)
        auth = session.auth_data if session.authenticated else ""
        tls = (session.ssl is not None or
               server.transport.get_extra_info("ssl_object") is not None)
        head = (
            f"X-Sink-Mail-From: {envelope.mail_from}\r\n"
            f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Sink-Tls: {'yes' if tls else 'no'}\r\n"
            f"X-Sink-Auth: {auth}\r\n"
        ).encode()
        name = os.path.join(self.folder, f"{number:06d}.eml")
        temporary = os.path.join(self.folder, f".{number:06d}.tmp")
        with open(temporary, "wb") as out:
            out.write(head + envelope.original_content)
            out.flush()
            os.fsync(out.fileno())
        os.rename(temporary, name)
        return f"250 2.0.0 Ok: queued as sink-{number}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--delay-rcpt", type=float, default=0.0)
    parser.add_argument("--fail-data", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    existing = [n for n in os.listdir(args.dir) if n.endswith(".eml")]

    handler = FolderHandler(args.dir, args.delay_rcpt, args.fail_data)
    # A restarted sink continues the numbering instead of overwriting earlier mail.
    handler.counter = itertools.count(len(existing) + 1)
    kwargs = {}
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    if args.user:
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode() == args.user and
                  auth_data.password.decode() == args.password)
            return AuthResult(success=ok, handled=False, auth_data=args.user if ok else None)
        kwargs["authenticator"] = authenticate
        kwargs["auth_require_tls"] = tls is not None
    if tls is not None and args.implicit_tls:
        controller = Controller(handler, hostname="127.0.0.1", port=args.port, ssl_context=tls,
                                **kwargs)
    else:
        if tls is not None:
            kwargs["tls_context"] = tls
            kwargs["require_starttls"] = True
        controller = Controller(handler, hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    print("ready", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def watch_stdin():
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not done.wait(0.2):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
