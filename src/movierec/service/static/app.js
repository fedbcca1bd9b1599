// movierec web page: state tastes, search and rate movies, watch recommendations update.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { profile: null, ratings: new Map(), tastes: new Map(), info: null };
const PROFILE_KEY = "movierec.profile";

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  const key = $("api-key").value || localStorage.getItem("movierec.apiKey");
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : data.detail;
    const error = new Error(detail || `${method} ${path} failed (${response.status})`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function showError(err) {
  const box = $("error");
  box.textContent = err.message;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 5000);
}

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

// The person's own stars (click to rate) and, for recommendations, the model's predicted
// rating beside them when the model has a rater (null otherwise: nothing is shown).
function stars(movieId, predicted = null) {
  const box = el("span", { className: "stars" });
  const { rating_min: low, rating_max: high } = state.info;
  for (let value = Math.ceil(low); value <= high; value += 1) {
    const on = (state.ratings.get(movieId) || 0) >= value;
    const star = el("button", {
      type: "button", className: on ? "star on" : "star", textContent: "★",
      title: `rate ${value}`, onclick: () => rate(movieId, value).catch(showError),
    });
    star.dataset.value = String(value);
    box.append(star);
  }
  if (predicted !== null && predicted !== undefined) {
    box.append(el("span", { className: "predicted", textContent: `predicted ${predicted.toFixed(1)}`,
                            title: `${state.info.rater} predicts you would rate it ${predicted.toFixed(2)}` }));
  }
  return box;
}

function movieLine(movie, extra = []) {
  const year = movie.year ? ` (${movie.year})` : "";
  const title = el("span", { className: "title", textContent: movie.title + year,
                             onclick: () => openMovie(movie.movie_id).catch(showError) });
  const li = el("li", {}, [title, stars(movie.movie_id, movie.predicted_rating), ...extra]);
  li.dataset.movieId = String(movie.movie_id);
  return li;
}

function tastesBody() {
  const pick = (kind) => [...state.tastes].filter(([, v]) => v === kind).map(([g]) => g);
  const year = (id) => ($(id).value ? Number($(id).value) : null);
  return { liked_genres: pick("liked"), disliked_genres: pick("disliked"),
           year_min: year("year-min"), year_max: year("year-max") };
}

// Stated tastes are the page's own state once loaded: a save answered after a later click
// must not undo that click, so only a stored profile read at start-up sets them.
function loadTastes(preferences) {
  state.tastes = new Map([
    ...preferences.liked_genres.map((g) => [g, "liked"]),
    ...preferences.disliked_genres.map((g) => [g, "disliked"]),
  ]);
  $("year-min").value = preferences.year_min ?? "";
  $("year-max").value = preferences.year_max ?? "";
  renderGenres();
}

function showProfile(result) {
  const profile = result.profile;
  state.profile = profile.profile_id;
  localStorage.setItem(PROFILE_KEY, String(profile.profile_id));
  state.ratings = new Map(profile.ratings.map((r) => [r.movie_id, r.rating]));
  $("profile-status").textContent =
    `Profile ${profile.profile_id}: ${profile.ratings.length} rating(s).`;
  $("ratings").replaceChildren(...profile.ratings.map((r) => movieLine(r, [
    el("button", { type: "button", className: "remove", textContent: "remove",
                   onclick: () => unrate(r.movie_id).catch(showError) }),
  ])));
  showRecommendations(result.recommendations);
}

function showRecommendations(recommendations) {
  $("recommendations").replaceChildren(...recommendations.map((movie) => {
    let why = "popular with everyone";
    if (movie.because_you_rated) why = `because you rated ${movie.because_you_rated.title}`;
    else if (movie.matching_genres.length) why = `you like ${movie.matching_genres.join(", ")}`;
    return movieLine(movie, [
      el("div", { className: "meta", textContent: movie.genres.join(" · ") }),
      el("div", { className: "why", textContent: why }),
    ]);
  }));
}

// Writes run one after another: the first creates the profile, the next ones change it.
let writes = Promise.resolve();
function queued(write) {
  const done = writes.then(write);
  writes = done.catch(() => {});
  return done;
}

function rate(movieId, value) { return queued(() => rateNow(movieId, value)); }

async function rateNow(movieId, value) {
  if (state.profile === null) {
    const body = { preferences: tastesBody(), ratings: [{ movie_id: movieId, rating: value }] };
    showProfile(await api("POST", "/api/profiles", body));
  } else {
    showProfile(await api("PUT", `/api/profiles/${state.profile}/ratings/${movieId}`, { rating: value }));
  }
  await refreshRecommendations();
  renderSearch();
}

function unrate(movieId) { return queued(() => unrateNow(movieId)); }

async function unrateNow(movieId) {
  showProfile(await api("DELETE", `/api/profiles/${state.profile}/ratings/${movieId}`));
  await refreshRecommendations();
}

// Called on every genre click and year change: recommendations follow the tastes at once.
function saveTastes() { return queued(saveTastesNow); }

async function saveTastesNow() {
  if (state.profile === null) {
    showProfile(await api("POST", "/api/profiles", { preferences: tastesBody() }));
  } else {
    showProfile(await api("PUT", `/api/profiles/${state.profile}/preferences`, tastesBody()));
  }
  await refreshRecommendations();
}

async function refreshRecommendations() {
  if (state.profile === null) return;
  const genre = $("genre-filter").value;
  const query = genre ? `?k=10&genre=${encodeURIComponent(genre)}` : "?k=10";
  showRecommendations(await api("GET", `/api/profiles/${state.profile}/recommendations${query}`));
}

function renderGenres() {
  $("genres").replaceChildren(...state.info.genres.map((genre) => {
    const kind = state.tastes.get(genre);
    return el("button", {
      type: "button", className: `chip ${kind || ""}`, textContent: genre,
      onclick: () => {
        const next = { undefined: "liked", liked: "disliked", disliked: undefined }[kind];
        if (next) state.tastes.set(genre, next); else state.tastes.delete(genre);
        renderGenres();
        saveTastes().catch(showError);
      },
    });
  }));
}

let lastResults = [];
function renderSearch() {
  $("results").replaceChildren(...lastResults.map((movie) => movieLine(movie, [
    el("div", { className: "meta", textContent: movie.genres.join(" · ") }),
  ])));
}

let searchTimer = null;
function onSearch() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(async () => {
    const q = $("search").value.trim();
    lastResults = q ? await api("GET", `/api/movies/search?limit=10&q=${encodeURIComponent(q)}`) : [];
    renderSearch();
  }, 200);
}

async function openMovie(movieId) {
  const movie = await api("GET", `/api/movies/${movieId}?k=8`);
  const year = movie.year ? ` (${movie.year})` : "";
  $("movie-details").replaceChildren(
    el("h2", { textContent: movie.title + year }),
    el("p", { className: "meta", textContent:
      `${movie.genres.join(" · ")} — ${movie.n_ratings} ratings in training` }),
    stars(movie.movie_id),
    el("h3", { textContent: "Similar movies" }),
    el("ul", { className: "movies", id: "similar" },
       movie.similar.map((m) => movieLine({ ...m, year: null }))),
  );
  $("movie-details").hidden = false;
}

async function start() {
  state.info = await api("GET", "/api/model");
  const stars = state.info.rater ? `stars from ${state.info.rater}` : "no predicted stars";
  $("model-info").textContent = `${state.info.preset} · ranked by ${state.info.ranker} · ${stars}`
    + ` · ${state.info.n_movies} movies · ${state.info.n_users} users`;
  if (!state.info.accepts_profiles) {
    $("profile-status").textContent = `This model (${state.info.preset}) cannot fold in new `
      + "people's ratings, so it takes no profiles: tastes and ratings cannot be saved here.";
  }
  $("api-key-box").hidden = !state.info.write_needs_api_key;
  if (state.info.report_url) $("report-link").href = state.info.report_url;
  $("report-link").hidden = !state.info.report_url;
  $("api-key").addEventListener("change", () => localStorage.setItem("movierec.apiKey", $("api-key").value));
  for (const genre of state.info.genres) $("genre-filter").append(el("option", { value: genre, textContent: genre }));
  renderGenres();
  $("search").addEventListener("input", onSearch);
  for (const id of ["year-min", "year-max"]) {
    $(id).addEventListener("change", () => saveTastes().catch(showError));
  }
  $("genre-filter").addEventListener("change", () => refreshRecommendations().catch(showError));
  const saved = localStorage.getItem(PROFILE_KEY);
  if (saved) {
    try {
      const profile = await api("GET", `/api/profiles/${saved}`);
      state.profile = profile.profile_id;
      loadTastes(profile.preferences);
      showProfile({ profile, recommendations: [] });
      await refreshRecommendations();
    } catch (err) {
      if (err.status === 404) localStorage.removeItem(PROFILE_KEY);  // gone; keep it on a 401
      else showError(err);
    }
  }
}

start().catch(showError);
