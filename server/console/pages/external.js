// External transactions: pending, late and failed payments, with Google's last error.
import { el, figures, section, table } from "../dom.js";

const row = (p) => [p.paymentId, p.accountId, p.productId, p.amount, p.transactionTime, p.deadline, p.late ? "late" : "in time", p.lastError ?? "—"];
const columns = ["Payment id", "Account", "Product", "Pre-tax amount", "Paid at", "Deadline", "Deadline status", "Google's last error"];

export default async function external(_params, { api }) {
  const e = await api.page("external-transactions");
  return [
    figures([
      ["Pending", e.pending, "pending"],
      ["Late (past 24 h)", e.late, "late"],
      ["Failed", e.failed, "failed"],
      ["Reported", e.reported, "reported"],
      ["Reported late", e.reportedLate, "reported-late"],
      ["Refunds pending", e.refundsPending, "refunds-pending"],
      ["Refunds failed", e.refundsFailed, "refunds-failed"],
    ]),
    section("Pending", table("Pending payments, oldest first", columns, e.pendingPayments.map(row))),
    section("Failed", table("Failed payments", columns, e.failedPayments.map(row))),
  ];
}
