// fake-spotify: the offline Spotify Web API on a port, for trying the extractor by hand.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "fake_spotify.h"

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: fake-spotify [--port N] [--host ADDR] [--no-popularity] [--no-markets] [--dev-playlist]\n"
               "Serves a fake Spotify Web API (/v1) and Accounts token endpoint (/api/token) until SIGINT/SIGTERM.\n"
               "  --port N          listen port (default 0: a free one)\n"
               "  --host ADDR       listen address (default 127.0.0.1)\n"
               "  --no-popularity   omit popularity, as development-mode apps see it since Feb 2026\n"
               "  --no-markets      omit available_markets\n"
               "  --dev-playlist    GET /playlists/{id} carries its first page under \"items\"\n");
}

}  // namespace

int main(int argc, char** argv) {
  etl::fakespotify::FakeSpotifyOptions options;
  std::string host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("fake-spotify %s\n", ETL_VERSION);
      return 0;
    } else if (arg == "--port" && i + 1 < argc) {
      try {
        port = std::stoi(argv[++i]);
      } catch (...) {
        port = -1;
      }
      if (port < 0 || port > 65535) {
        std::fprintf(stderr, "fake-spotify: --port takes a number from 0 to 65535\n");
        return 2;
      }
    } else if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (arg == "--no-popularity") {
      options.include_popularity = false;
    } else if (arg == "--no-markets") {
      options.include_available_markets = false;
    } else if (arg == "--dev-playlist") {
      options.dev_mode_playlist_object = true;
    } else {
      std::fprintf(stderr, "fake-spotify: unknown argument %s\n", arg.c_str());
      usage(stderr);
      return 2;
    }
  }

  // Block the stop signals before any thread starts, then wait for one here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  etl::fakespotify::FakeSpotifyServer server(options);
  const int bound = server.start(host, port);
  if (bound <= 0) {
    std::fprintf(stderr, "fake-spotify: cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  std::printf("SPOTIFY_API_URL=%s\nSPOTIFY_ACCOUNTS_URL=%s\nSPOTIFY_CLIENT_ID=%s\nSPOTIFY_CLIENT_SECRET=%s\n",
              server.api_url().c_str(), server.accounts_url().c_str(), options.client_id.c_str(),
              options.client_secret.c_str());
  std::printf("playlists: demo %s, large %s, edge cases %s, empty %s; albums: demo %s, big %s; artist %s\n",
              etl::fakespotify::kDemoPlaylistId, etl::fakespotify::kLargePlaylistId,
              etl::fakespotify::kEdgeCasePlaylistId, etl::fakespotify::kEmptyPlaylistId,
              etl::fakespotify::kDemoAlbumId, etl::fakespotify::kBigAlbumId, etl::fakespotify::kProlificArtistId);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  server.stop();
  return 0;
}
