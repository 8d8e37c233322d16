// The edge-case playlist: every item shape a real playlist can hold, and the
// names and dates that break naive CSV writers and date parsers.
#include "catalogue_builder.h"

namespace etl::fakespotify::detail {

void add_edge_cases(Builder& b) {
  Catalogue& c = b.catalogue();
  const std::string zoe = b.artist("Zoë Müller", {"german pop", "schlager"}, 52);
  const std::string bjorn = b.artist("Bjørn Ødegaard", {"norwegian indie"}, 44);
  const std::string yuki = b.artist("花村ゆき", {"j-pop", "city pop"}, 61);
  const std::string hart = b.artist("Hart, Lowe & Finch", {"folk rock"}, 39);
  const std::string luna = make_id("artist:Luna Okafor");
  const std::string kito = make_id("artist:Kito Mensah");

  // Release dates of every precision, including Spotify's "0000" for an unknown year.
  const std::string tapes = b.album({hart}, "Millennium Tapes", "album", "1999", "year", "Parlour Tapes");
  const std::string spring = b.album({zoe}, "Frühling '99", "album", "1999-05", "month", "Copperline");
  const std::string fjord = b.album({bjorn}, "Fjørd Lights", "album", "0000", "year", "Fieldnote Records");
  const std::string dawn = b.album({yuki}, "夜明け", "album", "2021-11-03", "day", "Sundial Sound");
  const std::string gravity = b.album({luna}, "Gravity", "single", "2025-06-27", "day", "Harbor Records");

  const std::string t_gravity =
      b.track(gravity, "Gravity (feat. Kito Mensah & Zoë Müller)", {luna, kito, zoe}, 201345, 77);
  const std::string t_commas = b.track(tapes, "Hello, Goodbye, Hello Again", {hart}, 245000, 31);
  const std::string t_quotes = b.track(tapes, "She Said \"Goodbye\"", {hart}, 198500, 28);
  const std::string t_cafe = b.track(spring, "Café Olé", {zoe}, 187654, 46);
  const std::string t_newline = b.track(spring, "First Line\nSecond Line", {zoe}, 176000, 22);
  const std::string t_nordlys = b.track(fjord, "Nordlys Ø", {bjorn}, 263210, 35);
  const std::string t_sketch = b.track(fjord, "Unreleased Sketch", {bjorn}, 95000, std::nullopt);
  const std::string t_song = b.track(dawn, "夜明けの歌", {yuki}, 232100, 58);
  const std::string t_emoji = b.track(dawn, "Sunflower 🌻 Summer", {yuki}, 214800, 63);
  const std::string t_explicit = b.track(dawn, "Wasted Nights", {yuki, hart}, 189999, 49, true);

  const std::string show = make_id("show:Late Night Frequencies");
  c.shows.push_back({show, "Late Night Frequencies", "Harbor Audio",
                     "Conversations about music, data and the strange corners of streaming.", 42});
  const std::string ep1 = make_id("episode:41"), ep2 = make_id("episode:42");
  c.episodes.push_back({ep1, "Ep. 41: How Playlists Forget Songs",
                        "Why a track can vanish from a playlist and leave a hole behind.", show, "2025-10-02",
                        2843000, false});
  c.episodes.push_back({ep2, "Ep. 42: Why Local Files Have No IDs",
                        "Local files, podcasts and other things that are not quite tracks.", show, "2025-10-16",
                        3121500, true});

  const LocalFile memo{"My Demo Recording", "Local Artist", "Voice Memos", 187000};
  const LocalFile wedding{"Åsa's Wedding Song (rough mix)", "Åsa & Friends", "Bröllop 2019", 241000};
  const std::string first = b.album_ref(kDemoAlbumId).track_ids.front();

  b.playlist(kEdgeCasePlaylistId, "Edge Cases & Oddities",
             "Removed tracks, local files, podcast episodes, \"quoted\" names, commas, newlines and 日本語.", 7);
  const std::vector<PlaylistItem> items = {
      {ItemKind::track, first, {}, {}, {}},      {ItemKind::removed, {}, {}, {}, {}},
      {ItemKind::track, t_gravity, {}, {}, {}},  {ItemKind::local, {}, memo, {}, {}},
      {ItemKind::track, t_cafe, {}, {}, {}},     {ItemKind::episode, ep1, {}, {}, {}},
      {ItemKind::track, t_commas, {}, {}, {}},   {ItemKind::track, t_song, {}, {}, {}},
      {ItemKind::track, t_emoji, {}, {}, {}},    {ItemKind::track, t_quotes, {}, {}, {}},
      {ItemKind::track, t_newline, {}, {}, {}},  {ItemKind::track, t_nordlys, {}, {}, {}},
      {ItemKind::track, t_sketch, {}, {}, {}},   {ItemKind::removed, {}, {}, {}, {}},
      {ItemKind::episode, ep2, {}, {}, {}},      {ItemKind::local, {}, wedding, {}, {}},
      {ItemKind::track, first, {}, {}, {}},      {ItemKind::track, t_explicit, {}, {}, {}},
  };
  std::int64_t t = days_from_civil(2025, 11, 2) * 86400 + 10 * 3600;
  for (PlaylistItem item : items) {
    item.added_at = rfc3339(t);
    item.added_by = kCuratorUserId;
    b.add_item(kEdgeCasePlaylistId, std::move(item));
    t += 3 * 3600 + 17 * 60;
  }
}

}  // namespace etl::fakespotify::detail
