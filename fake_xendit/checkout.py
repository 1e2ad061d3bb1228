"""The checkout page served at an invoice's ``invoice_url``.

A real, small, mobile-first HTML page (no JavaScript, no external assets) so the
Flutter apps can open it in an emulator's in-app browser and a tester, Maestro
or Playwright can pay or expire the invoice with one tap.  The forms POST to
``/web/invoices/{id}/pay`` and ``/web/invoices/{id}/expire``, which answer
``303`` back to this page (or to the invoice's success/failure redirect URL).
Every piece of user-supplied text is escaped.
"""

from __future__ import annotations

from html import escape

from fake_xendit.models import Invoice
from simkit.clock import isoformat

#: Choices of the Pay form: ``value`` is ``METHOD:CHANNEL``.
PAYMENT_CHOICES: tuple[tuple[str, str], ...] = (
    ("BANK_TRANSFER:BCA", "BCA Virtual Account"),
    ("BANK_TRANSFER:BNI", "BNI Virtual Account"),
    ("BANK_TRANSFER:BRI", "BRI Virtual Account"),
    ("BANK_TRANSFER:MANDIRI", "Mandiri Virtual Account"),
    ("BANK_TRANSFER:PERMATA", "Permata Virtual Account"),
    ("EWALLET:OVO", "OVO"),
    ("EWALLET:DANA", "DANA"),
    ("EWALLET:SHOPEEPAY", "ShopeePay"),
    ("QR_CODE:QRIS", "QRIS"),
    ("RETAIL_OUTLET:ALFAMART", "Alfamart"),
)

_STYLE = """
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,Roboto,sans-serif;background:#f2f4f7;color:#1d2939}
main{max-width:28rem;margin:0 auto;padding:1.25rem}
.card{background:#fff;border-radius:1rem;padding:1.5rem;box-shadow:0 1px 3px rgba(16,24,40,.1)}
h1{font-size:1.1rem;margin:0 0 .25rem}.muted{color:#667085;font-size:.9rem;margin:.25rem 0}
.amount{font-size:2rem;font-weight:700;margin:1rem 0 .5rem}
.status{display:inline-block;padding:.3rem .8rem;border-radius:999px;font-weight:700;letter-spacing:.05em}
.PENDING{background:#fef0c7;color:#93370d}.PAID,.SETTLED{background:#d1fadf;color:#05603a}.EXPIRED{background:#fee4e2;color:#912018}
.final{display:block;font-size:1.6rem;text-align:center;padding:1rem;margin-top:1rem;border-radius:.8rem}
form{margin-top:1rem}label{display:block;font-size:.9rem;margin-bottom:.35rem}
select,button{width:100%;font-size:1rem;padding:.85rem;border-radius:.6rem;border:1px solid #d0d5dd}
button{border:none;font-weight:700;cursor:pointer;margin-top:.6rem}
.pay{background:#155eef;color:#fff}.expire{background:#fff;color:#b42318;border:1px solid #fda29b}
footer{text-align:center;color:#98a2b3;font-size:.75rem;margin-top:1rem}
"""


def format_amount(amount: float, currency: str) -> str:
    """``Rp 25.000`` for rupiah (dot thousands, comma decimals); ``USD 12.50`` otherwise."""
    if currency == "IDR":
        value = round(amount, 2)
        whole = int(value)
        text = f"{whole:,}".replace(",", ".")
        cents = round((value - whole) * 100)
        return f"Rp {text},{cents:02d}" if cents else f"Rp {text}"
    return f"{currency} {amount:,.2f}"


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n<footer>fake Xendit checkout · halo-sim</footer>\n</main>\n</body>\n</html>\n"
    )


def _actions(invoice: Invoice) -> str:
    """Pay and Expire forms, only while the invoice can still change."""
    if invoice.status != "PENDING":
        return f'<p class="status final {invoice.status}" data-testid="final-status">{invoice.status}</p>'
    options = "".join(f'<option value="{escape(v)}">{escape(label)}</option>' for v, label in PAYMENT_CHOICES)
    path = f"/web/invoices/{escape(invoice.id)}"
    return (
        f'<form method="post" action="{path}/pay">'
        f'<label for="method">Payment method</label><select id="method" name="method">{options}</select>'
        '<button class="pay" type="submit" data-testid="pay">Pay</button></form>'
        f'<form method="post" action="{path}/expire">'
        '<button class="expire" type="submit" data-testid="expire">Expire</button></form>'
    )


def _expiry_line(invoice: Invoice) -> str:
    """When it expires (or did); a paid invoice no longer has a deadline worth showing."""
    if invoice.status == "PENDING":
        return f'<p class="muted">Expires {escape(isoformat(invoice.expiry_date))}</p>'
    if invoice.status == "EXPIRED":
        return f'<p class="muted">Expired {escape(isoformat(invoice.expiry_date))}</p>'
    return ""


def render_invoice(invoice: Invoice) -> str:
    """The checkout page for one invoice, in whatever state it is."""
    amount = format_amount(invoice.amount, invoice.currency)
    description = (
        f'<p class="muted" data-testid="description">{escape(invoice.description)}</p>' if invoice.description else ""
    )
    paid = ""
    if invoice.payment is not None:
        paid = f'<p class="muted">Paid with {escape(invoice.payment.method)} · {escape(invoice.payment.channel)}</p>'
    body = (
        '<section class="card">'
        f'<h1 data-testid="merchant">{escape(invoice.merchant_name)}</h1>'
        f"{description}"
        f'<p class="amount" data-testid="amount">{escape(amount)}</p>'
        f'<p>Status: <span class="status {invoice.status}" data-testid="status">{invoice.status}</span></p>'
        f"{paid}"
        f'<p class="muted">Invoice {escape(invoice.id)} · ref {escape(invoice.external_id)}</p>'
        f"{_expiry_line(invoice)}"
        f"{_actions(invoice)}"
        "</section>"
    )
    return _page(f"{invoice.merchant_name} · {amount}", body)


def render_not_found(invoice_id: str) -> str:
    """The page for an invoice id the fake never issued."""
    body = (
        '<section class="card">'
        "<h1>Invoice not found</h1>"
        f'<p class="muted" data-testid="not-found">No invoice with id {escape(invoice_id)}.</p>'
        "</section>"
    )
    return _page("Invoice not found", body)
