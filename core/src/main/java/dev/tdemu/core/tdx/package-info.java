/**
 * The TDX module. Guest side: the TDCALL leaves ({@link dev.tdemu.core.tdx.TdxModule#tdcall}),
 * the events it turns into #VE ({@link dev.tdemu.core.tdx.TdxModule#handleTdEvent}), the #VE
 * information, private page acceptance and TD/vCPU metadata, each answered with a sealed result.
 * Host side: each TD vCPU's saved DR state, what TDH.VP.ENTER and a TD exit do to the physical DRs
 * under each {@link dev.tdemu.core.tdx.TdxDrBehaviour}, and the debug interface available only
 * for debug TDs (ATTRIBUTES.DEBUG). All TDX status codes live here: {@link dev.tdemu.core.tdx.TdxStatus}
 * (the module's) and {@link dev.tdemu.core.tdx.TdvmcallStatus} (the GHCI's).
 */
package dev.tdemu.core.tdx;
