"""Delivery channels behind one interface: Telegram, Zalo and the console, one row
each in `registry` (settings, factory, address check, declared limits).

`send(recipient, message) -> receipt`, `send_document`, `edit`; errors classified as
permanent, transient, uncertain or a migrated chat (see `base`). Message text is
composed as Telegram HTML, built with `escape_html` for anything user-supplied (see
`messages`); a channel without HTML (Zalo) sends its plain text.
"""
