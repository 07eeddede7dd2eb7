package dev.emailrouter.pop3;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A POP3 server that answers from a script, for server behaviour GreenMail doesn't have (Dovecot's
 * two-step XOAUTH2 refusal, a locked maildrop). The script maps each command line to the reply
 * lines (CRLF added here); {@code null} closes the connection.
 */
final class ScriptedPop3Server implements AutoCloseable {

  private final ServerSocket listener;
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final List<List<String>> batches = new CopyOnWriteArrayList<>();
  private final String greeting;

  ScriptedPop3Server(UnaryOperator<String> script) throws IOException {
    this("+OK scripted POP3 ready", script);
  }

  /** A server that greets with these lines (CRLF added), e.g. another protocol's greeting. */
  ScriptedPop3Server(String greeting, UnaryOperator<String> script) throws IOException {
    this.greeting = greeting;
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread thread = new Thread(() -> serve(script), "scripted-pop3");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  List<String> commands() {
    return List.copyOf(commands);
  }

  /**
   * The commands of each read: the lines that had arrived before the server sent its first reply
   * to them. A lock-step client gives batches of one; a pipelining client several.
   */
  List<List<String>> batches() {
    return List.copyOf(batches);
  }

  private void serve(UnaryOperator<String> script) {
    while (!listener.isClosed()) {
      try (Socket socket = listener.accept()) {
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
            StandardCharsets.ISO_8859_1));
        OutputStream out = socket.getOutputStream();
        out.write((greeting.replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        boolean open = true;
        for (String line = in.readLine(); line != null; line = open ? in.readLine() : null) {
          // Every line already here is taken before any reply goes out, as a pipelining server does.
          List<String> batch = new ArrayList<>();
          batch.add(line);
          while (in.ready()) {
            String more = in.readLine();
            if (more == null) {
              break;
            }
            batch.add(more);
          }
          batches.add(List.copyOf(batch));
          for (String command : batch) {
            commands.add(command);
            String reply = script.apply(command);
            if (reply == null) {
              open = false;
              break;
            }
            out.write((reply.replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
          }
          out.flush();
        }
      } catch (IOException e) {
        // next connection, or closed
      }
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
