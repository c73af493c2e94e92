// Play sandbox for the browser: installs window.getDigitalGoodsService and a PaymentRequest
// for the Play billing method, backed by the emulator's device endpoints.
// (Being written; see emulator/README.md.)
