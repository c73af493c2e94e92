//! The Play emulator (filled in by its issue).
