//! The demo's clients: simulated users sending a mix of reads and writes across every context
//! of the monolith through the proxy, with a bounded number of requests in flight.
//!
//! Each user signs up once (a real customer) and sends its id in the sticky header, so the
//! proxy keeps it on one side. Every answer is checked against what that request should get
//! (a booking may meet a taken seat, 409; a review read by id must exist, 200): anything else,
//! a 5xx or no answer counts as a failed client request.
//!
//! Writes to a movie's reviews and reads of them take turns per movie, each holding its turn a
//! little longer than its own answer (`settle`). The proxy compares the primary's answer with
//! the candidate's mirrored one a few milliseconds apart; without the gap, a review written in
//! those milliseconds would count as a difference that is only replication lag, and the match
//! rate would not tell behaviour apart from timing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::RwLock;

use super::stats::Stats;

/// The demo's HTTP client: pooled keep-alive connections.
pub(super) type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The sticky header the demo's proxy config keys on.
pub const USER_HEADER: &str = "x-user-id";
/// How long one client request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// One simulated user: a customer of the monolith.
#[derive(Debug)]
struct User {
    header: String,
    customer_id: i64,
}

/// What the users share: the catalog's ids and what they wrote.
#[derive(Debug)]
struct World {
    movies: Vec<i64>,
    showtimes: Vec<i64>,
    users: Vec<User>,
    /// One turn per movie: review writes exclusive, review reads shared.
    turns: BTreeMap<i64, Arc<RwLock<()>>>,
    /// Live reviews the users wrote: id -> (movie, user index).
    reviews: Mutex<BTreeMap<i64, (i64, usize)>>,
    /// Movies each user has reviewed.
    reviewed: Mutex<BTreeSet<(usize, i64)>>,
    /// Bookings: id -> user index.
    bookings: Mutex<BTreeMap<i64, usize>>,
}

/// The traffic: a client, the proxy's address and the shared world.
#[derive(Clone)]
pub struct Traffic {
    client: HttpClient,
    base: String,
    world: Arc<World>,
    stats: Arc<Stats>,
    settle: Duration,
}

/// What an action expects, and what it saw.
struct Outcome {
    status: Option<u16>,
    body: Value,
}

impl Traffic {
    /// Signs `users` customers up through the proxy (`base`, `http://IP:PORT`) and reads the
    /// catalog's movies and showtimes.
    pub async fn prepare(
        base: &str,
        users: usize,
        stats: Arc<Stats>,
        settle: Duration,
    ) -> anyhow::Result<Traffic> {
        let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
        let mut traffic = Traffic {
            client,
            base: base.trim_end_matches('/').to_string(),
            world: Arc::new(World {
                movies: Vec::new(),
                showtimes: Vec::new(),
                users: Vec::new(),
                turns: BTreeMap::new(),
                reviews: Mutex::new(BTreeMap::new()),
                reviewed: Mutex::new(BTreeSet::new()),
                bookings: Mutex::new(BTreeMap::new()),
            }),
            stats,
            settle,
        };
        let movies = traffic.setup_get("/api/movies?per_page=100").await?;
        let movie_ids: Vec<i64> = ids_of(&movies["items"]);
        let mut showtimes = Vec::new();
        for movie in &movie_ids {
            let list = traffic
                .setup_get(&format!("/api/movies/{movie}/showtimes"))
                .await?;
            let items = if list["items"].is_array() {
                &list["items"]
            } else {
                &list
            };
            showtimes.extend(ids_of(items));
        }
        let reviewed = BTreeSet::new();
        let mut reviews = BTreeMap::new();
        let mut people = Vec::new();
        let run = std::process::id();
        for k in 0..users {
            let body = json!({
                "email": format!("demo-user-{k}-{run}@example.com"),
                "full_name": format!("Demo User {k}"),
            });
            let answer = traffic
                .send(Method::POST, "/api/customers", None, Some(body))
                .await;
            let id = match (answer.status, answer.body["id"].as_i64()) {
                (Some(201), Some(id)) => id,
                (status, _) => anyhow::bail!(
                    "signing up demo user {k} through the proxy failed: {status:?} {}",
                    answer.body
                ),
            };
            people.push(User {
                header: format!("user-{k}"),
                customer_id: id,
            });
        }
        // The seed's reviews are live reviews too (nobody deletes them).
        for movie in &movie_ids {
            let list = traffic
                .setup_get(&format!("/api/movies/{movie}/reviews?per_page=100"))
                .await?;
            for item in list["items"].as_array().into_iter().flatten() {
                if let Some(id) = item["id"].as_i64() {
                    reviews.insert(id, (*movie, usize::MAX));
                }
            }
        }
        let world = World {
            turns: movie_ids
                .iter()
                .map(|m| (*m, Arc::new(RwLock::new(()))))
                .collect(),
            movies: movie_ids,
            showtimes,
            users: people,
            reviews: Mutex::new(reviews),
            reviewed: Mutex::new(reviewed),
            bookings: Mutex::new(BTreeMap::new()),
        };
        if world.movies.is_empty() || world.showtimes.is_empty() {
            anyhow::bail!(
                "the monolith's catalog is empty: no movies or showtimes to drive traffic on"
            );
        }
        traffic.world = Arc::new(world);
        Ok(traffic)
    }

    async fn setup_get(&self, path: &str) -> anyhow::Result<Value> {
        let answer = self.send(Method::GET, path, None, None).await;
        if answer.status != Some(200) {
            anyhow::bail!(
                "GET {path} through the proxy answered {:?}: {}",
                answer.status,
                answer.body
            );
        }
        Ok(answer.body)
    }

    /// Runs `workers` concurrent clients until `stop` is set; each waits `think` between its
    /// requests. Each user belongs to one client, so a user does one thing at a time.
    pub async fn run(&self, workers: usize, think: Duration, stop: Arc<AtomicBool>) {
        let mut tasks = Vec::new();
        let workers = workers.min(self.world.users.len()).max(1);
        for worker in 0..workers {
            let traffic = self.clone();
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = Rng::new(0x5eed_u64 ^ ((worker as u64 + 1) * 0x9e37_79b9));
                let mine: Vec<usize> = (worker..traffic.world.users.len())
                    .step_by(workers)
                    .collect();
                while !stop.load(Relaxed) {
                    let user = mine[rng.below(mine.len())];
                    traffic.one_action(user, &mut rng).await;
                    tokio::time::sleep(think).await;
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    }

    async fn one_action(&self, user_index: usize, rng: &mut Rng) {
        let world = &self.world;
        let user = &world.users[user_index];
        let movie = world.movies[rng.below(world.movies.len())];
        let showtime = world.showtimes[rng.below(world.showtimes.len())];
        let customer = user.customer_id;
        let roll = rng.below(100);
        match roll {
            0..=7 => self.read(user, "/api/movies", &[200]).await,
            8..=14 => {
                self.read(user, &format!("/api/movies/{movie}"), &[200])
                    .await
            }
            15..=18 => {
                self.read(user, &format!("/api/movies/{movie}/showtimes"), &[200])
                    .await
            }
            19..=22 => {
                self.read(user, &format!("/api/showtimes/{showtime}/seats"), &[200])
                    .await
            }
            23..=24 => self.read(user, "/api/screens", &[200]).await,
            25..=29 => {
                self.read(user, &format!("/api/customers/{customer}"), &[200])
                    .await
            }
            30..=32 => {
                self.read(user, &format!("/api/customers/{customer}/bookings"), &[200])
                    .await
            }
            33..=35 => self.read(user, "/api/fares/rules", &[200]).await,
            36..=37 => self.read(user, "/api/discounts/STUDENT10", &[200]).await,
            38..=59 => self.read_movie_reviews(user, movie, rng).await,
            60..=71 => self.read_review(user, rng).await,
            72..=75 => self.read_booking(user, user_index, rng).await,
            76..=82 => self.write_review(user, user_index, rng).await,
            83..=85 => self.delete_review(user, user_index, rng).await,
            86..=90 => self.book(user, user_index, showtime, rng).await,
            91..=92 => self.cancel(user, user_index, rng).await,
            93..=96 => {
                let body =
                    json!({"customer_id": customer, "showtime_id": showtime, "seats": [seat(rng)]});
                self.write(user, Method::POST, "/api/fares/quote", body, &[200, 409])
                    .await;
            }
            _ => {
                let genres = ["drama", "comedy", "thriller", "documentary"];
                let body = json!({"favorite_genre": genres[rng.below(genres.len())], "marketing_opt_in": rng.below(2) == 0});
                self.write(
                    user,
                    Method::PUT,
                    &format!("/api/customers/{customer}/profile"),
                    body,
                    &[200],
                )
                .await;
            }
        }
    }

    async fn read(&self, user: &User, path: &str, expected: &[u16]) {
        self.checked(user, Method::GET, path, None, expected).await;
    }

    async fn write(
        &self,
        user: &User,
        method: Method,
        path: &str,
        body: Value,
        expected: &[u16],
    ) -> Outcome {
        self.checked(user, method, path, Some(body), expected).await
    }

    async fn checked(
        &self,
        user: &User,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: &[u16],
    ) -> Outcome {
        let started = Instant::now();
        let read = method == Method::GET;
        let line = format!("{method} {path}");
        let outcome = self.send(method, path, Some(&user.header), body).await;
        let failure = match outcome.status {
            Some(status) if expected.contains(&status) => None,
            Some(status) => Some(format!("{line} answered {status}: {}", outcome.body)),
            None => Some(format!("{line}: {}", outcome.body)),
        };
        self.stats.record(read, started.elapsed(), failure);
        outcome
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<Value>,
    ) -> Outcome {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("accept", "application/json");
        if let Some(user) = user {
            request = request.header(USER_HEADER, user);
        }
        let bytes = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = match request.body(Full::new(bytes)) {
            Ok(request) => request,
            Err(error) => return failed(format!("bad request: {error}")),
        };
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(Ok((status, body))) => Outcome {
                status: Some(status),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            },
            Ok(Err(error)) => failed(error),
            Err(_) => failed(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())),
        }
    }

    /// Holds a movie's turn a little after the answer (see the module doc).
    fn release_later<G: Send + 'static>(&self, guard: G) {
        let settle = self.settle;
        tokio::spawn(async move {
            tokio::time::sleep(settle).await;
            drop(guard);
        });
    }

    fn turn(&self, movie: i64) -> Arc<RwLock<()>> {
        self.world
            .turns
            .get(&movie)
            .cloned()
            .unwrap_or_else(|| Arc::new(RwLock::new(())))
    }

    async fn read_movie_reviews(&self, user: &User, movie: i64, rng: &mut Rng) {
        let sort = ["newest", "highest", "lowest"][rng.below(3)];
        let guard = self.turn(movie).read_owned().await;
        self.read(
            user,
            &format!("/api/movies/{movie}/reviews?sort={sort}"),
            &[200],
        )
        .await;
        self.release_later(guard);
    }

    async fn read_review(&self, user: &User, rng: &mut Rng) {
        let picked = {
            let reviews = self.world.reviews.lock().unwrap_or_else(|e| e.into_inner());
            let n = reviews.len();
            (n > 0)
                .then(|| {
                    reviews
                        .iter()
                        .nth(rng.below(n))
                        .map(|(id, (m, _))| (*id, *m))
                })
                .flatten()
        };
        let Some((id, movie)) = picked else {
            self.read(user, "/api/reviews/999999", &[404]).await;
            return;
        };
        let guard = self.turn(movie).read_owned().await;
        // Deleted while this user waited for its turn: then it is gone, or its id already
        // belongs to a review another user just posted on another movie (the monolith's
        // `reviews.id` is a plain rowid, so deleting the newest review frees its id for the next
        // insert, which can commit before its author records it here).
        let live = self
            .world
            .reviews
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id);
        let expected: &[u16] = if live { &[200] } else { &[404, 200] };
        self.read(user, &format!("/api/reviews/{id}"), expected)
            .await;
        self.release_later(guard);
    }

    async fn write_review(&self, user: &User, user_index: usize, rng: &mut Rng) {
        let movie = {
            let reviewed = self
                .world
                .reviewed
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let open: Vec<i64> = self
                .world
                .movies
                .iter()
                .copied()
                .filter(|m| !reviewed.contains(&(user_index, *m)))
                .collect();
            (!open.is_empty()).then(|| open[rng.below(open.len())])
        };
        let Some(movie) = movie else {
            return self.delete_review(user, user_index, rng).await;
        };
        let guard = self.turn(movie).write_owned().await;
        let rating = 1 + rng.below(5);
        let body = json!({
            "customer_id": user.customer_id,
            "rating": rating,
            "title": format!("{rating} stars from {}", user.header),
            "body": "Seen during the strangler demo.",
        });
        let answer = self
            .write(
                user,
                Method::POST,
                &format!("/api/movies/{movie}/reviews"),
                body,
                &[201],
            )
            .await;
        if answer.status == Some(201)
            && let Some(id) = answer.body["review"]["id"].as_i64()
        {
            self.world
                .reviews
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, (movie, user_index));
            self.world
                .reviewed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((user_index, movie));
        }
        self.release_later(guard);
    }

    async fn delete_review(&self, user: &User, user_index: usize, rng: &mut Rng) {
        let own: Vec<(i64, i64)> = self
            .world
            .reviews
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, (_, owner))| *owner == user_index)
            .map(|(id, (movie, _))| (*id, *movie))
            .collect();
        if own.is_empty() {
            return;
        }
        let (id, movie) = own[rng.below(own.len())];
        let guard = self.turn(movie).write_owned().await;
        let answer = self
            .checked(
                user,
                Method::DELETE,
                &format!("/api/reviews/{id}"),
                None,
                &[200],
            )
            .await;
        if answer.status == Some(200) {
            self.world
                .reviews
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            self.world
                .reviewed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&(user_index, movie));
        }
        self.release_later(guard);
    }

    async fn book(&self, user: &User, user_index: usize, showtime: i64, rng: &mut Rng) {
        let body =
            json!({"customer_id": user.customer_id, "showtime_id": showtime, "seats": [seat(rng)]});
        let answer = self
            .write(user, Method::POST, "/api/bookings", body, &[201, 409])
            .await;
        if answer.status == Some(201)
            && let Some(id) = answer.body["id"].as_i64()
        {
            self.world
                .bookings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, user_index);
        }
    }

    fn own_booking(&self, user_index: usize, rng: &mut Rng) -> Option<i64> {
        let bookings = self
            .world
            .bookings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let own: Vec<i64> = bookings
            .iter()
            .filter(|(_, owner)| **owner == user_index)
            .map(|(id, _)| *id)
            .collect();
        (!own.is_empty()).then(|| own[rng.below(own.len())])
    }

    async fn read_booking(&self, user: &User, user_index: usize, rng: &mut Rng) {
        match self.own_booking(user_index, rng) {
            Some(id) => {
                self.read(user, &format!("/api/bookings/{id}"), &[200])
                    .await;
            }
            None => {
                self.read(user, "/api/fares/rules", &[200]).await;
            }
        }
    }

    async fn cancel(&self, user: &User, user_index: usize, rng: &mut Rng) {
        let Some(id) = self.own_booking(user_index, rng) else {
            return;
        };
        let answer = self
            .write(
                user,
                Method::POST,
                &format!("/api/bookings/{id}/cancel"),
                json!({}),
                &[200, 409],
            )
            .await;
        if answer.status == Some(200) {
            self.world
                .bookings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }
}

fn failed(reason: String) -> Outcome {
    Outcome {
        status: None,
        body: Value::String(reason),
    }
}

fn ids_of(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_i64())
        .collect()
}

/// A seat every screen of the sample has: rows A-D, seats 1-6.
fn seat(rng: &mut Rng) -> String {
    let row = ['A', 'B', 'C', 'D'][rng.below(4)];
    format!("{row}{}", 1 + rng.below(6))
}

/// A small deterministic generator (xorshift64*), so a run's mix of requests is repeatable.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}
