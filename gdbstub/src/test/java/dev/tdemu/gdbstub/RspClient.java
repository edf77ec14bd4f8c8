package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.rsp.Rsp;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal blocking GDB remote protocol client for tests and benchmarks: frames packets (binary
 * escaping included), handles acks and retransmission, expands run-length encoded replies and
 * verifies their checksums.
 */
public final class RspClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    /** Own buffering (BufferedInputStream locks per byte, which dominates large replies). */
    private final byte[] buf = new byte[1 << 16];
    /** The current packet's wire bytes between {@code $} and {@code #}. */
    private byte[] packet = new byte[1 << 12];
    private int pos, lim;
    private final OutputStream out;
    private boolean noAck;
    private byte[] lastSent;
    private int retransmissionsReceived;

    private RspClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public static RspClient connect(int port) throws IOException {
        return connect("127.0.0.1", port, Duration.ofSeconds(30));
    }

    public static RspClient connect(String host, int port, Duration readTimeout) throws IOException {
        return connect(host, port, readTimeout, 0);
    }

    /**
     * @param receiveBuffer the socket's receive buffer in bytes (fixed, so the kernel does not
     *                      grow it), or 0 for the system's default
     */
    public static RspClient connect(String host, int port, Duration readTimeout, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), 5000);
        s.setSoTimeout((int) readTimeout.toMillis());
        return new RspClient(s);
    }

    public void readTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    public boolean noAckMode() {
        return noAck;
    }

    /** How many times the stub asked us to resend ({@code -}). */
    public int retransmissionsReceived() {
        return retransmissionsReceived;
    }

    /** Sends a packet (escaping {@code $ # } *}); does not wait for the reply. */
    public void send(String payload) throws IOException {
        send(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    public void send(byte[] payload) throws IOException {
        lastSent = Rsp.frame(Rsp.escape(payload));
        out.write(lastSent);
        out.flush();
    }

    /** Writes raw bytes, no framing. */
    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void sendRaw(String ascii) throws IOException {
        sendRaw(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends the 0x03 interrupt byte. */
    public void interrupt() throws IOException {
        sendRaw(new byte[] {Rsp.INTERRUPT});
    }

    /**
     * Reads the next packet: skips {@code +}, resends on {@code -}, verifies the checksum (a bad one
     * is answered with {@code -} and the next packet read), acknowledges it unless in no-ack mode,
     * and returns the payload with run-length encoding and escapes undone.
     */
    public byte[] receiveBytes() throws IOException {
        if (!heldPackets.isEmpty()) {
            return heldPackets.poll();
        }
        while (true) {
            byte[] frame = receiveFrame();
            if (frame != null) {
                return frame;
            }
        }
    }

    /** Notifications ({@code %Stop:...}) read while waiting for a packet, oldest first. */
    private final java.util.ArrayDeque<String> notifications = new java.util.ArrayDeque<>();
    /** Packets read while waiting for a notification, for the next {@link #receiveBytes()}. */
    private final java.util.ArrayDeque<byte[]> heldPackets = new java.util.ArrayDeque<>();

    /**
     * Reads the next asynchronous notification ({@code %Stop:T05...}, returned without the
     * {@code %}, e.g. {@code "Stop:T05thread:1;"}); packets that come first are kept for
     * {@link #receive()}.
     */
    public String receiveNotification() throws IOException {
        while (notifications.isEmpty()) {
            byte[] frame = receiveFrame();
            if (frame != null) {
                heldPackets.add(frame);
            }
        }
        return notifications.poll();
    }

    /** Notifications received so far and not yet taken by {@link #receiveNotification()}. */
    public List<String> pendingNotifications() {
        return List.copyOf(notifications);
    }

    /**
     * Reads one frame: a packet's payload (acknowledged unless in no-ack mode), or null after a
     * notification, which is queued (never acknowledged) or a bad checksum.
     */
    private byte[] receiveFrame() throws IOException {
        while (true) {
            int b = read();
            if (b == '+') {
                continue;
            }
            if (b == '-') {
                retransmissionsReceived++;
                if (lastSent != null) {
                    out.write(lastSent);
                    out.flush();
                }
                continue;
            }
            if (b != '$' && b != '%') {
                continue;
            }
            boolean notification = b == '%';
            int n = 0;
            while (true) {
                if (pos == lim) {
                    fill();
                }
                int start = pos;
                while (pos < lim && buf[pos] != '#') {
                    pos++;
                }
                int len = pos - start;
                if (n + len > packet.length) {
                    packet = java.util.Arrays.copyOf(packet, Math.max(packet.length * 2, n + len));
                }
                System.arraycopy(buf, start, packet, n, len);
                n += len;
                if (pos < lim) {
                    pos++; // the '#'
                    break;
                }
            }
            int sent = (Hex.digit(read()) << 4) | Hex.digit(read());
            if (notification) {
                if (Rsp.checksum(packet, 0, n) != sent) {
                    throw new IOException("bad checksum in a notification");
                }
                notifications.add(new String(expand(packet, n), StandardCharsets.ISO_8859_1));
                return null;
            }
            if (Rsp.checksum(packet, 0, n) != sent) {
                if (!noAck) {
                    out.write('-');
                    out.flush();
                }
                return null;
            }
            if (!noAck) {
                out.write('+');
                out.flush();
            }
            return expand(packet, n);
        }
    }

    private static final boolean[] SPECIAL = new boolean[256];

    static {
        SPECIAL['*'] = true;
        SPECIAL[Rsp.ESCAPE] = true;
    }

    /** Undoes run-length encoding and then escapes, in one pass (they nest: escape first, RLE second). */
    static byte[] expand(byte[] raw, int n) throws IOException {
        byte[] payload = new byte[Math.max(16, n)];
        int m = 0;
        boolean escaped = false;
        int previous = -1;
        int i = 0;
        while (i < n) {
            // copy the stretch up to the next '*' or '}' in one go
            int start = i;
            while (i < n && !SPECIAL[raw[i] & 0xff]) {
                i++;
            }
            if (i > start) {
                previous = raw[i - 1] & 0xff; // what a following '*' repeats: the wire byte
                if (m + (i - start) > payload.length) {
                    payload = java.util.Arrays.copyOf(payload, Math.max(payload.length * 2, m + (i - start)));
                }
                if (escaped) {
                    payload[m++] = (byte) (raw[start++] ^ 0x20);
                    escaped = false;
                }
                System.arraycopy(raw, start, payload, m, i - start);
                m += i - start;
                if (i == n) {
                    break;
                }
            }
            int b = raw[i] & 0xff;
            int repeat = 1;
            if (b == '*') {
                if (previous < 0 || i + 1 >= n) {
                    throw new IOException("malformed run-length encoding: " + Rsp.printable(java.util.Arrays.copyOf(raw, n), 200));
                }
                repeat = (raw[++i] & 0xff) - 29;
                if (repeat < 1 || repeat > Rsp.MAX_REPEAT) {
                    throw new IOException("bad run-length count " + repeat);
                }
                b = previous;
            }
            i++;
            previous = b;
            if (m + repeat > payload.length) {
                payload = java.util.Arrays.copyOf(payload, Math.max(payload.length * 2, m + repeat));
            }
            for (int k = 0; k < repeat; k++) {
                if (escaped) {
                    payload[m++] = (byte) (b ^ 0x20);
                    escaped = false;
                } else if (b == Rsp.ESCAPE) {
                    escaped = true;
                } else {
                    payload[m++] = (byte) b;
                }
            }
        }
        if (escaped) {
            throw new IOException("reply ends with a lone escape");
        }
        return java.util.Arrays.copyOf(payload, m);
    }

    public String receive() throws IOException {
        return new String(receiveBytes(), StandardCharsets.ISO_8859_1);
    }

    /** Sends a packet and returns the reply. */
    public String request(String payload) throws IOException {
        send(payload);
        return receive();
    }

    public byte[] requestBytes(byte[] payload) throws IOException {
        send(payload);
        return receiveBytes();
    }

    /** Reads one raw byte (for ack-level tests); -1 on timeout. */
    public int readRawByte() throws IOException {
        try {
            return read();
        } catch (SocketTimeoutException e) {
            return -1;
        }
    }

    /** True if the stub sends nothing within {@code wait}. */
    public boolean silentFor(Duration wait) throws IOException {
        int old = socket.getSoTimeout();
        socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
        try {
            if (pos == lim) {
                int n = in.read(buf, 0, buf.length);
                if (n < 0) {
                    throw new EOFException("connection closed");
                }
                lim = n;
                pos = 0;
            }
            pos++; // the byte that broke the silence is dropped, as before
            return false;
        } catch (SocketTimeoutException e) {
            return true;
        } finally {
            socket.setSoTimeout(old);
        }
    }

    /** True once the stub has closed the connection (reads until EOF or timeout). */
    public boolean closedByPeer(Duration wait) throws IOException {
        int old = socket.getSoTimeout();
        socket.setSoTimeout((int) wait.toMillis());
        try {
            while (true) {
                pos = lim = 0;
                if (in.read(buf, 0, buf.length) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        } finally {
            socket.setSoTimeout(old);
        }
    }

    /** Negotiates no-ack mode. */
    public void startNoAckMode() throws IOException {
        String reply = request("QStartNoAckMode");
        if (!reply.equals("OK")) {
            throw new IOException("QStartNoAckMode refused: " + reply);
        }
        noAck = true;
    }

    /** Runs {@code monitor command}: collects the {@code O} output until the final reply. */
    public MonitorResult monitor(String command) throws IOException {
        send("qRcmd," + Hex.encodeText(command));
        StringBuilder output = new StringBuilder();
        while (true) {
            String reply = receive();
            if (reply.startsWith("O") && !reply.equals("OK")) {
                output.append(Hex.decodeText(reply.substring(1)));
            } else {
                return new MonitorResult(output.toString(), reply);
            }
        }
    }

    public record MonitorResult(String output, String finalReply) {
    }

    /** Reads memory with as many {@code m} packets as needed, {@code chunk} bytes each. */
    public byte[] readMemory(long address, int length, int chunk) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream(length);
        long a = address;
        while (data.size() < length) {
            int n = Math.min(chunk, length - data.size());
            send("m" + Long.toHexString(a) + "," + Integer.toHexString(n));
            byte[] reply = receiveBytes();
            if (reply.length > 0 && reply[0] == 'E') {
                throw new IOException("memory read failed at 0x" + Long.toHexString(a) + ": "
                        + new String(reply, StandardCharsets.ISO_8859_1));
            }
            byte[] bytes = Hex.decode(reply, 0, reply.length);
            data.writeBytes(bytes);
            a += bytes.length;
        }
        return data.toByteArray();
    }

    /** Collects packets until one matches {@code done}. */
    public List<String> receiveUntil(java.util.function.Predicate<String> done) throws IOException {
        List<String> all = new ArrayList<>();
        while (true) {
            String p = receive();
            all.add(p);
            if (done.test(p)) {
                return all;
            }
        }
    }

    private int read() throws IOException {
        if (pos == lim) {
            fill();
        }
        return buf[pos++] & 0xFF;
    }

    private void fill() throws IOException {
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
            throw new EOFException("connection closed by the stub");
        }
        pos = 0;
        lim = n;
    }

    public boolean isClosed() {
        return socket.isClosed();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
