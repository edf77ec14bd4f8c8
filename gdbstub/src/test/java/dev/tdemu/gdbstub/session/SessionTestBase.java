package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.FakeTarget;
import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.gdbstub.StubFixture;
import dev.tdemu.gdbstub.rsp.Hex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stub on a free port serving a {@link FakeTarget}, and what the session's tests share. */
abstract class SessionTestBase {
    static final String PLAIN = "qSupported:swbreak+;hwbreak+";
    static final String PC_1000 = "10:0010400000000000;";

    StubFixture stub;
    FakeTarget target;

    @BeforeEach
    void start() throws Exception {
        stub = new StubFixture();
        target = stub.target();
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    RspClient attach(String features) throws Exception {
        RspClient c = stub.connect();
        c.request(features);
        assertTrue(c.request("?").startsWith("T05"));
        return c;
    }

    static String readRaw(RspClient c, int n) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append((char) c.readRawByte());
        }
        return sb.toString();
    }

    static String le64(long v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            sb.append(Hex.byte2((int) (v >>> (8 * i)) & 0xff));
        }
        return sb.toString();
    }
}
