/**
 * The Unicorn 2.1 CPU engine through java.lang.foreign: {@link dev.tdemu.emulator.unicorn.Unicorn}
 * (one x86-64 engine: memory, registers, MSRs, hooks, contexts, runs and a cross-thread stop that
 * is never lost) and {@link dev.tdemu.emulator.unicorn.SwitchableBlockHook} (a block hook switched
 * from any thread without dropping translations). The test sources add BareMachine (an engine with
 * guest RAM in Java-owned memory) and GuestRunner (runs a guest image with the console/exit port
 * convention). Exceptions thrown by hooks never cross into native code; they come
 * back out of {@code emuStart}. See docs/unicorn-binding.md.
 */
package dev.tdemu.emulator.unicorn;
