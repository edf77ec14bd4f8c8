package dev.tdemu.core.kvm;

import dev.tdemu.core.kvm.DrSwitchPolicy.HostRestore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.tdemu.core.kvm.SwitchDbRegs.AUTO_SWITCH;
import static dev.tdemu.core.kvm.SwitchDbRegs.BP_ENABLED;
import static dev.tdemu.core.kvm.SwitchDbRegs.RELOAD;
import static dev.tdemu.core.kvm.SwitchDbRegs.WONT_EXIT;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** DESIGN.md section 5's policy table, row by row. */
class DrSwitchPolicyTableTest {

    private static SwitchDbRegs flags(String names) {
        SwitchDbRegs s = SwitchDbRegs.NONE;
        for (String n : names.split("\\|")) {
            s = switch (n.trim()) {
                case "0" -> s;
                case "BP_ENABLED" -> s.with(BP_ENABLED);
                case "WONT_EXIT" -> s.with(WONT_EXIT);
                case "RELOAD" -> s.with(RELOAD);
                case "AUTO_SWITCH" -> s.with(AUTO_SWITCH);
                default -> throw new IllegalArgumentException(n);
            };
        }
        return s;
    }

    @ParameterizedTest(name = "{0} with {1}: loads guest DRs = {2}")
    @CsvSource({
            "PRE_TDX,         0,                       false",
            "PRE_TDX,         AUTO_SWITCH,             true",
            "PRE_TDX,         BP_ENABLED,              true",
            "PRE_TDX,         BP_ENABLED|AUTO_SWITCH,  true",
            "PRE_TDX,         WONT_EXIT,               true",
            "PRE_TDX,         RELOAD,                  true",
            "V1_SKIP_RESTORE, 0,                       false",
            "V1_SKIP_RESTORE, AUTO_SWITCH,             false",
            "V1_SKIP_RESTORE, BP_ENABLED,              true",
            "V1_SKIP_RESTORE, BP_ENABLED|AUTO_SWITCH,  true",
            "V1_SKIP_RESTORE, RELOAD|AUTO_SWITCH,      true",
            "V1_SKIP_RESTORE, WONT_EXIT,               true",
            "V5_AS_POSTED,    0,                       false",
            "V5_AS_POSTED,    AUTO_SWITCH,             false",
            "V5_AS_POSTED,    BP_ENABLED,              true",
            "V5_AS_POSTED,    BP_ENABLED|AUTO_SWITCH,  true",
            "V5_AS_POSTED,    RELOAD|AUTO_SWITCH,      true",
            "DR7_ONLY,        0,                       false",
            "DR7_ONLY,        AUTO_SWITCH,             false",
            "DR7_ONLY,        BP_ENABLED|AUTO_SWITCH,  true",
            "DR7_ONLY,        WONT_EXIT,               true",
            "UPSTREAM,        0,                       false",
            "UPSTREAM,        AUTO_SWITCH,             false",
            "UPSTREAM,        BP_ENABLED,              true",
            "UPSTREAM,        BP_ENABLED|AUTO_SWITCH,  false",
            "UPSTREAM,        RELOAD|AUTO_SWITCH,      false",
            "UPSTREAM,        WONT_EXIT,               true",
            "UPSTREAM,        RELOAD,                  true",
    })
    void loadConditionBeforeEntry(DrSwitchPolicy policy, String flagNames, boolean loads) {
        assertEquals(loads, policy.loadsGuestDebugRegisters(flags(flagNames)));
    }

    @ParameterizedTest(name = "{0}, AUTO_SWITCH={1}, host BPs active={2}: restore {3}")
    @CsvSource({
            "PRE_TDX,         false, true,  FULL",
            "PRE_TDX,         true,  true,  FULL",
            "V1_SKIP_RESTORE, false, true,  FULL",
            "V1_SKIP_RESTORE, true,  true,  NONE",
            "V5_AS_POSTED,    false, true,  FULL",
            "V5_AS_POSTED,    true,  true,  FULL",
            "DR7_ONLY,        false, true,  FULL",
            "DR7_ONLY,        true,  true,  DR7",
            "UPSTREAM,        false, true,  FULL",
            "UPSTREAM,        true,  true,  FULL",
            "PRE_TDX,         true,  false, NONE",
            "V1_SKIP_RESTORE, false, false, NONE",
            "V5_AS_POSTED,    true,  false, NONE",
            "DR7_ONLY,        true,  false, NONE",
            "UPSTREAM,        false, false, NONE",
    })
    void hostRestoreAfterExit(DrSwitchPolicy policy, boolean autoSwitch, boolean active, HostRestore expected) {
        SwitchDbRegs s = autoSwitch ? SwitchDbRegs.of(AUTO_SWITCH, BP_ENABLED) : SwitchDbRegs.of(BP_ENABLED);
        assertEquals(expected, policy.hostRestoreAfterExit(s, active));
    }

    @Test
    void forVmxVcpusWithoutAutoSwitchAllPoliciesAgree() {
        for (int bits = 0; bits < 8; bits++) {
            SwitchDbRegs s = new SwitchDbRegs(bits);
            for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
                assertEquals(!s.isEmpty(), p.loadsGuestDebugRegisters(s), p + " " + s);
                assertEquals(HostRestore.FULL, p.hostRestoreAfterExit(s, true), p + " " + s);
            }
        }
    }

    @Test
    void everyPolicyMapsToAndFromItsProtoValue() {
        for (DrSwitchPolicy p : DrSwitchPolicy.values()) {
            assertEquals(p, DrSwitchPolicy.fromProto(p.toProto()));
        }
    }
}
