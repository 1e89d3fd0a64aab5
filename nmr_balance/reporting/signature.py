"""The wording of the signed record, once, for the note, the PDF and the command line.

A signed session's note is a fixed document (:class:`~nmr_balance.record.Signature`): the text
exactly as signed, then the addenda in the order they were written, then a line anyone can check
against the stored hash. An altered text is said so, loudly, wherever the note is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from nmr_balance.record import Addendum, Signature, note_sha256, utc_minute

#: How many hex digits of the SHA-256 the PDF prints (64 bits: enough to compare two copies).
SHORT_HASH = 16

#: The last line of a note before it is signed (the signing adds :func:`signed_line` below it).
SIGNING_FOOTER = "Drafted by nmr-balance from the recorded session; reviewed and signed by:"


def signed_line(by: str, at: str) -> str:
    """ "Signed by A. Smith at 2026-12-02 14:05 UTC" (the last line of a signed note)."""
    return f"Signed by {by} at {utc_minute(at)}"


def pdf_signature_line(signature: Signature) -> str:
    """ "Signed by A. Smith on 2026-12-02 14:05 UTC (SHA-256 0123456789abcdef)"."""
    return (
        f"Signed by {signature.by} on {utc_minute(signature.at)} "
        f"(SHA-256 {signature.sha256[:SHORT_HASH]})"
    )


def tampered_line(signature: Signature) -> str:
    """What every output says when the stored note no longer has the hash it was signed with."""
    return (
        f"WARNING: THE SIGNED NOTE ON FILE WAS CHANGED AFTER SIGNING. {signed_line(signature.by, signature.at)}"
        f" with SHA-256 {signature.sha256}; the text on file has SHA-256 "
        f"{note_sha256(signature.text)}. Do not bill from this copy: restore the database from a "
        "backup and find out who changed it."
    )


def verification_line(signature: Signature) -> str:
    """ "Signed by ... at ...; SHA-256 ...; matches the signed text", or the warning."""
    if not signature.intact:
        return tampered_line(signature)
    return (
        f"{signed_line(signature.by, signature.at)}; SHA-256 {signature.sha256}; "
        "matches the signed text"
    )


def addendum_heading(addendum: Addendum) -> str:
    """ "Addendum by B. Jones, 2026-12-03 09:10 UTC:"."""
    return f"Addendum by {addendum.by}, {utc_minute(addendum.at)}:"


def signed_note(signature: Signature, addenda: Sequence[Addendum] = ()) -> str:
    """A signed session's note: the signed text verbatim, the addenda, the verification line."""
    parts = [signature.text.rstrip("\n"), ""]
    if not signature.intact:
        parts = [tampered_line(signature), "", *parts]
    for addendum in addenda:
        parts += [addendum_heading(addendum), addendum.text.rstrip("\n"), ""]
    parts.append(verification_line(signature))
    return "\n".join(parts) + "\n"
