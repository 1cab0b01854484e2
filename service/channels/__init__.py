"""Delivery channels behind one interface: Telegram and the console.

`send(recipient, message) -> receipt`, `send_document`, `edit`; errors classified as
permanent, transient or a migrated chat (see `base`). Message text is Telegram HTML,
built with `escape_html` for anything user-supplied (see `messages`).
"""
