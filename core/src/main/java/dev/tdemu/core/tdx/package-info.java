/**
 * The TDX module as far as debug registers go: each TD vCPU's saved DR state, what TDH.VP.ENTER
 * and a TD exit do to the physical DRs under each {@link dev.tdemu.core.tdx.TdxDrBehaviour}, and
 * the debug interface available only for debug TDs (ATTRIBUTES.DEBUG).
 */
package dev.tdemu.core.tdx;
