package dev.emailrouter.testkit;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SentFolder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The Sent folder contract over an in-memory folder; run through the JUnit Platform test kit only. */
class FakeSentFolderContract extends SentFolderContract {

  /** Whether the next run's folders append without looking for the Message-ID first; set before the run. */
  static volatile boolean appendsTwice;

  @Override
  protected Fixture newFixture() {
    boolean twice = appendsTwice;
    Map<String, List<byte[]>> folders = new ConcurrentHashMap<>();
    Map<String, List<String>> ids = new ConcurrentHashMap<>();
    SentFolder folder = (OutgoingEmail email, ContentSource message) -> {
      String sender = email.from().normalized();
      List<String> known = ids.computeIfAbsent(sender, k -> new ArrayList<>());
      if (!twice && known.contains(email.messageId())) {
        return;
      }
      try (InputStream in = message.open()) {
        folders.computeIfAbsent(sender, k -> new ArrayList<>()).add(in.readAllBytes());
        known.add(email.messageId());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
    return new Fixture() {
      @Override
      public SentFolder sentFolder() {
        return folder;
      }

      @Override
      public List<byte[]> sentBy(String address) {
        return List.copyOf(folders.getOrDefault(address, List.of()));
      }
    };
  }
}
