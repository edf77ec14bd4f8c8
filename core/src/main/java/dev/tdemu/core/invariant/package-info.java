/**
 * The invariants of DESIGN.md section 6 as pure functions over model state. Each check returns the
 * violations it found (empty when the invariant holds); the emulator calls them at every return to
 * the host (and at guest entry where stated) and turns them into trace verdicts.
 */
package dev.tdemu.core.invariant;
