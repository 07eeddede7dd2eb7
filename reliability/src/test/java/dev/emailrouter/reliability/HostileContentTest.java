package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.reliability.HostileCorpus.Sample;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the CRM gets from the hostile messages a trial found mishandled (issue 12), as exact bytes
 * through the engine into the JDBC store: different messages are never merged into one activity;
 * a Message-ID seen again with another body gives one activity and is not lost silently; decoded
 * subjects and names are right (UTF-7, a character split across encoded words) and carry no CR/LF;
 * group members and international domain names are recipients like others; no blocked file type
 * reaches the store as an attachment under a disguised name. The samples run through the engine
 * once, before the tests, which each look at one kind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class HostileContentTest {
  private static final long SEED = HostileInputTest.SEED;
  /** Enough for every disguise in {@link HostileCorpus#EVASION_NAMES}; even, so shared Message-IDs come in pairs. */
  private static final int PER_CATEGORY = 8;

  private final MutableClock clock = new MutableClock();
  private final Outcomes outcomes = new Outcomes();
  private final List<RouterEvent.MessageTracked> tracked = new ArrayList<>();
  private Map<String, Sample> byRef;
  private Map<String, Crm.Stored> stored;

  @BeforeAll
  void run(@TempDir Path dir) {
    try (Crm crm = new Crm(dir)) {
      RawMailbox box = new RawMailbox("hostile");
      byRef = new LinkedHashMap<>();
      Set<String> wanted = Set.of(HostileCorpus.HEADERLESS, HostileCorpus.IDN, HostileCorpus.UTF7, HostileCorpus.SPLIT,
          HostileCorpus.CRLF_WORD, HostileCorpus.GROUPS, HostileCorpus.EVASIONS, HostileCorpus.SHARED_ID);
      for (Sample s : HostileCorpus.generate(SEED, PER_CATEGORY)) {
        if (wanted.contains(s.category())) {
          byRef.put(box.add(s.raw()), s);
        }
      }
      RouterEngine engine = RouterEngine.builder()
          .activityStore(crm.store())
          .mailbox(Mailbox.ofUser("user-1", box).withName("hostile"))
          .trackingPolicy(TrackingPolicy.allEmail())
          .clock(clock)
          .listener(e -> {
            outcomes.onEvent(e);
            if (e instanceof RouterEvent.MessageTracked t) {
              tracked.add(t);
            }
          })
          .mailboxRetryDelay(Duration.ofMinutes(1))
          .build();
      try (engine) {
        for (int i = 0; i < 5 && !byRef.keySet().stream().allMatch(outcomes::has); i++) {
          engine.tick();
          clock.advance(Duration.ofMinutes(2));
        }
      }
      stored = crm.received();
    }
  }

  @Test
  void tick_onMessagesWithoutAnyHeader_makesEachDifferentOneItsOwnActivity() {
    Map<ByteBuffer, Set<String>> activitiesByContent = new LinkedHashMap<>();
    for (String ref : refs(HostileCorpus.HEADERLESS)) {
      activitiesByContent.computeIfAbsent(ByteBuffer.wrap(byRef.get(ref).raw()), k -> new HashSet<>())
          .add(activityOf(ref));
    }
    Set<String> activities = new HashSet<>();
    activitiesByContent.values().forEach(activities::addAll);
    int merged = activitiesByContent.size() - activities.size();
    Figures.record(HostileContentTest.class, "messages without headers -> JdbcActivityStore", 0,
        activitiesByContent.size(), 0, 0, 0, Math.max(0, merged), 0, activities.size() + " activities for "
            + activitiesByContent.size() + " different messages");

    assertThat(activities).as("activities for %d different header-less messages (seed %d); tracked: %s",
        activitiesByContent.size(), SEED, tracked).doesNotContainNull().hasSize(activitiesByContent.size());
  }

  @Test
  void tick_onAMessageIdSeenAgainWithAnotherBody_makesOneActivityAndGivesBothAnOutcome() {
    Map<String, List<String>> refsById = new TreeMap<>();
    for (String ref : refs(HostileCorpus.SHARED_ID)) {
      refsById.computeIfAbsent(SmtpSink.messageId(new String(byRef.get(ref).raw(),
          java.nio.charset.StandardCharsets.ISO_8859_1)), k -> new ArrayList<>()).add(ref);
    }
    assertThat(refsById.values()).as("pairs sharing a Message-ID").allSatisfy(r -> assertThat(r).hasSize(2));
    refsById.forEach((id, refs) -> {
      assertThat(refs).as("both messages with %s have an outcome, neither is dropped unmentioned", id)
          .allMatch(outcomes::has);
      assertThat(stored.values()).as("activities with %s", id).filteredOn(s -> id.equals(s.messageId())).hasSize(1);
    });
  }

  @Test
  void tick_onSubjectsAndNamesInUtf7_storesTheDecodedText() {
    assertThat(refs(HostileCorpus.UTF7).stream().map(ref -> storedOf(ref).subject()).toList())
        .as("subjects of the UTF-7 samples").allSatisfy(s -> assertThat(s).startsWith(HostileCorpus.UTF7_SUBJECT));
    assertThat(refs(HostileCorpus.UTF7).stream().map(ref -> storedOf(ref).fromName()).toList())
        .as("senders' names of the UTF-7 samples").allSatisfy(s -> assertThat(s).startsWith(HostileCorpus.UTF7_SUBJECT));
  }

  @Test
  void tick_onACharacterSplitAcrossTwoEncodedWords_storesItWhole() {
    assertThat(refs(HostileCorpus.SPLIT).stream().map(ref -> storedOf(ref).subject()).toList())
        .as("subjects of the split-word samples").allSatisfy(s -> assertThat(s).doesNotContain("\ufffd")
            .startsWith(HostileCorpus.SPLIT_SUBJECT));
  }

  @Test
  void tick_onEncodedWordsThatDecodeToCrLf_storesSubjectsAndNamesWithoutControlCharacters() {
    java.util.regex.Pattern control = java.util.regex.Pattern.compile("[\\x00-\\x1f\\x7f]");
    java.util.regex.Pattern controlInList = java.util.regex.Pattern.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f]");
    List<String> bad = new ArrayList<>();
    for (String ref : refs(HostileCorpus.CRLF_WORD)) {
      Crm.Stored s = storedOf(ref);
      if (!s.subject().contains("Hello") || control.matcher(s.subject()).find()) {
        bad.add(ref + " subject: " + s.subject().replace("\r", "\\r").replace("\n", "\\n"));
      }
      if (control.matcher(s.fromName()).find()) {
        bad.add(ref + " sender's name: " + s.fromName().replace("\r", "\\r").replace("\n", "\\n"));
      }
      // stored as "address TAB name" lines: a CR or LF in a name breaks a line in two
      boolean broken = controlInList.matcher(s.to()).find()
          || java.util.Arrays.stream(s.to().split("\n")).anyMatch(line -> !line.contains("\t"));
      if (s.to().isBlank()) {
        bad.add(ref + " recipients: none (the To address was lost)");
      } else if (broken) {
        bad.add(ref + " recipients: " + s.to().replace("\r", "\\r").replace("\n", "\\n"));
      }
    }
    assertThat(bad).as("decoded values with control characters in the store").isEmpty();
  }

  @Test
  void tick_onRecipientsInRfc5322Groups_storesEveryGroupMember() {
    for (String ref : refs(HostileCorpus.GROUPS)) {
      Crm.Stored s = storedOf(ref);
      assertThat(addresses(s.to())).as("To of %s", ref).contains("bea@example.test", "cy@example.test");
      assertThat(addresses(s.cc())).as("Cc of %s", ref).contains("sales@crm.example.test", "dan@example.test");
    }
  }

  @Test
  void tick_onInternationalDomainNames_keepsTheDomainTheSenderWrote() {
    for (String ref : refs(HostileCorpus.IDN)) {
      Crm.Stored s = storedOf(ref);
      List<String> all = new ArrayList<>(addresses(s.to()));
      all.addAll(addresses(s.cc()));
      all.add(s.from());
      assertThat(all).as("addresses of %s (IDNA2003 would turn stra\u00dfe.de into strasse.de)", ref)
          .noneMatch(a -> a == null || a.isBlank() || a.toLowerCase().endsWith("@strasse.de"));
      assertThat(all.stream().map(World::aLabel).toList()).as("addresses of %s", ref)
          .contains("kunde@xn--strae-oqa.de", "leser@xn--bcher-kva.example");
    }
  }

  @Test
  void tick_onBlockedFileTypesUnderDisguisedNames_tracksTheMessageWithoutTheAttachment() {
    Map<String, List<String>> kept = new TreeMap<>();
    for (String ref : refs(HostileCorpus.EVASIONS)) {
      String sent = new String(byRef.get(ref).raw(), java.nio.charset.StandardCharsets.ISO_8859_1).lines()
          .filter(l -> l.startsWith("Content-Disposition: attachment")).findFirst().orElse("?");
      List<String> stored = storedOf(ref).attachments();
      if (!stored.isEmpty()) {
        kept.put(sent, stored);
      }
    }
    assertThat(kept).as("blocked attachments that reached the store (by how they were sent)").isEmpty();
  }

  private List<String> refs(String category) {
    List<String> out = byRef.entrySet().stream().filter(e -> e.getValue().category().equals(category))
        .map(Map.Entry::getKey).toList();
    assertThat(out).as("samples of %s", category).isNotEmpty();
    return out;
  }

  /** The activity a message became, or null when it was not tracked. */
  private String activityOf(String ref) {
    return tracked.stream().filter(t -> t.ref().equals(ref)).map(RouterEvent.MessageTracked::activityId).findFirst()
        .orElse(null);
  }

  private Crm.Stored storedOf(String ref) {
    String id = activityOf(ref);
    assertThat(id).as("message %s (%s) is tracked; outcomes %s", ref, byRef.get(ref).category(),
        outcomes.byRef().get(ref)).isNotNull();
    return stored.get(id);
  }

  private String subjectOf(String ref) {
    return storedOf(ref).subject();
  }

  /** The addresses of a stored address list ("address TAB name" lines), lower case. */
  private static List<String> addresses(String list) {
    List<String> out = new ArrayList<>();
    for (String line : list.split("\n")) {
      if (!line.isBlank()) {
        out.add(line.split("\t", 2)[0].toLowerCase());
      }
    }
    return out;
  }
}
