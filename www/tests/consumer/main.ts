// The smallest app: load the wasm, say whether Play Billing is there.
import init, { PlayBilling } from "pwa-billing";

await init();
const status = document.querySelector<HTMLParagraphElement>("#status");
if (status) {
  status.textContent = PlayBilling.isSupported()
    ? "Google Play Billing is available."
    : `Google Play Billing is unavailable: ${(await PlayBilling.diagnose()).problems.join(" ")}`;
}
