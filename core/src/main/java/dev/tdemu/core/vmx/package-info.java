/**
 * The VMX facts the debug-register model needs: the VMCS fields that concern debugging, exit
 * reasons and qualifications, and what VM entry and VM exit do to DR7 and IA32_DEBUGCTL.
 */
package dev.tdemu.core.vmx;
