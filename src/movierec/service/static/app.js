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
    throw new Error(detail || `${method} ${path} failed (${response.status})`);
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

function stars(movieId) {
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
  return box;
}

function movieLine(movie, extra = []) {
  const year = movie.year ? ` (${movie.year})` : "";
  const title = el("span", { className: "title", textContent: movie.title + year,
                             onclick: () => openMovie(movie.movie_id).catch(showError) });
  const li = el("li", {}, [title, stars(movie.movie_id), ...extra]);
  li.dataset.movieId = String(movie.movie_id);
  return li;
}

function tastesBody() {
  const pick = (kind) => [...state.tastes].filter(([, v]) => v === kind).map(([g]) => g);
  const year = (id) => ($(id).value ? Number($(id).value) : null);
  return { liked_genres: pick("liked"), disliked_genres: pick("disliked"),
           year_min: year("year-min"), year_max: year("year-max") };
}

function showProfile(result) {
  const profile = result.profile;
  state.profile = profile.profile_id;
  localStorage.setItem(PROFILE_KEY, String(profile.profile_id));
  state.ratings = new Map(profile.ratings.map((r) => [r.movie_id, r.rating]));
  state.tastes = new Map([
    ...profile.preferences.liked_genres.map((g) => [g, "liked"]),
    ...profile.preferences.disliked_genres.map((g) => [g, "disliked"]),
  ]);
  $("year-min").value = profile.preferences.year_min ?? "";
  $("year-max").value = profile.preferences.year_max ?? "";
  $("profile-status").textContent =
    `Profile ${profile.profile_id}: ${profile.ratings.length} rating(s).`;
  renderGenres();
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

async function rate(movieId, value) {
  if (state.profile === null) {
    const body = { preferences: tastesBody(), ratings: [{ movie_id: movieId, rating: value }] };
    showProfile(await api("POST", "/api/profiles", body));
  } else {
    showProfile(await api("PUT", `/api/profiles/${state.profile}/ratings/${movieId}`, { rating: value }));
  }
  await refreshRecommendations();
  renderSearch();
}

async function unrate(movieId) {
  showProfile(await api("DELETE", `/api/profiles/${state.profile}/ratings/${movieId}`));
  await refreshRecommendations();
}

async function saveTastes() {
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
  $("model-info").textContent =
    `${state.info.preset} · ${state.info.n_movies} movies · ${state.info.n_users} users`;
  $("api-key-box").hidden = !state.info.write_needs_api_key;
  if (state.info.report_url) $("report-link").href = state.info.report_url;
  $("report-link").hidden = !state.info.report_url;
  $("api-key").addEventListener("change", () => localStorage.setItem("movierec.apiKey", $("api-key").value));
  for (const genre of state.info.genres) $("genre-filter").append(el("option", { value: genre, textContent: genre }));
  renderGenres();
  $("search").addEventListener("input", onSearch);
  $("save-tastes").addEventListener("click", () => saveTastes().catch(showError));
  $("genre-filter").addEventListener("change", () => refreshRecommendations().catch(showError));
  const saved = localStorage.getItem(PROFILE_KEY);
  if (saved) {
    try {
      const profile = await api("GET", `/api/profiles/${saved}`);
      state.profile = profile.profile_id;
      showProfile({ profile, recommendations: [] });
      await refreshRecommendations();
    } catch {
      localStorage.removeItem(PROFILE_KEY);
    }
  }
}

start().catch(showError);
