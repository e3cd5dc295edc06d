// Decides whether a channel handed to Stasis gets a survey, runs it, and records how it ended.
// Every offered or declined survey leaves exactly one survey_outcome row; no caller is left in silence.
// Who is surveyed is eligibility.ts, a running survey's answers are its session (session.ts), and how
// it ended is outcomes.ts: this file sequences them for each caller and owns shutdown.
import { CallAlerts, teamOf, type AlertRules } from '../alerts/call-alerts.js';
import { linkFor, reachableNumber } from '../links/link-fallback.js';
import type { Ivr, LinkFallbackConfig, QueueConfig } from '../config/schema.js';
import type { SurveyOutcomeKind } from '../db/schema.js';
import type { StepContext } from '../ivr/context.js';
import { DigitBuffer } from '../ivr/digits.js';
import { runIvr, type RunEnd } from '../ivr/runner.js';
import type { Logger } from '../log.js';
import type { AnswerStore, OutcomeFollowUps, OutcomeStore, RatingStore, SurveyedCallerStore } from '../storage/ports.js';
import { ChannelGoneError, ChannelTakenOverError, type CallChannel, type IncomingCall } from '../telephony/port.js';
import type { Admission } from './admission.js';
import type { SurveyClaims } from './claims.js';
import { resurveyReason, skipReason } from './eligibility.js';
import { identifyCall, identityFromArgs, invalidIdentity, type CallIdentity } from './identify.js';
import { chooseLanguage, type SurveyLanguage } from './language.js';
import { classifyEnd, OutcomeRecorder, ShutdownDeadlineError, SurveyDeadlineError } from './outcomes.js';
import { SurveySession } from './session.js';
import type { SurveyConfigSource } from './survey-config.js';
import { talkSecondsOf } from './talk-time.js';

export { ShutdownDeadlineError, SurveyDeadlineError } from './outcomes.js';

export interface SurveyControllerDeps {
  readonly ratings: RatingStore;
  readonly answers: AnswerStore;
  readonly outcomes: OutcomeStore;
  readonly queues: ReadonlyMap<string, QueueConfig>;
  readonly ivrs: ReadonlyMap<string, Ivr>;
  /** In place of `queues` and `ivrs` when the config reloads: read once per new caller (survey-config.ts). */
  readonly surveyConfig?: SurveyConfigSource;
  readonly log: Logger;
  readonly observer?: SurveyObserver;
  readonly now?: () => Date;
  /** Leases on calls across engines; without it (cc-csat simulate) only this process's surveys are known. */
  readonly claims?: SurveyClaims;
  /** Asked before anything else for each new caller: when Asterisk is overloaded the caller gets no survey. */
  readonly admission?: Pick<Admission, 'decide'>;
  /** resurvey_after_hours: when caller numbers were last surveyed, and the key they are hashed with. */
  readonly surveyedCallers?: SurveyedCallerStore;
  readonly callerHashKey?: string | undefined;
  /** [alerts]: rules whose deliveries an answer puts in the outbox; the team in them from teams.toml. */
  readonly alerts?: AlertRules | undefined;
}

/** Hooks for metrics; all optional. */
export interface SurveyObserver {
  surveyStarted?(): void;
  /** `wasLive`: surveyStarted was called for it (skipped and early-abandoned calls never start). `reason`: the outcome row's. */
  surveyEnded?(outcome: SurveyOutcomeKind, wasLive: boolean, reason?: string | undefined): void;
  ratingStored?(score: number, dtmfToStoredMs: number): void;
}

/** Less time than this left of max_duration (its smallest allowed value) is too little to survey in. */
const MIN_SURVEY_TIME_MS = 5_000;

interface LiveSurvey {
  /** Known once the call is identified; used to refuse a second survey for the same call. */
  callId: string | undefined;
  readonly done: Promise<void>;
  /** Set while the IVR runs: ends it at once (shutdown deadline). */
  abort?: (reason: Error) => void;
}

export class SurveyController {
  private readonly live = new Map<string, LiveSurvey>();
  private accepting = true;
  /** Set once the shutdown deadline passed: surveys still running, or starting, end at once. */
  private forcedStop: ShutdownDeadlineError | undefined;
  private readonly now: () => Date;
  private readonly outcomes: OutcomeRecorder;

  constructor(private readonly deps: SurveyControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.outcomes = new OutcomeRecorder({ outcomes: deps.outcomes, log: deps.log, now: this.now, onRecorded: deps.observer?.surveyEnded?.bind(deps.observer) });
  }

  get liveCount(): number {
    return this.live.size;
  }

  /**
   * Entry point for every StasisStart. Never rejects: failures are logged and recorded. `admission`:
   * the overload check of the server the call is on (each server its own), else deps.admission.
   */
  handleCall(call: IncomingCall, admission: Pick<Admission, 'decide'> | undefined = this.deps.admission): Promise<void> {
    const { channel } = call;
    // Subscribe before anything async: keys pressed while we look things up must not be lost.
    const digits = new DigitBuffer();
    const unsubscribe = channel.onDtmf((digit) => digits.push(digit));
    const startedAt = this.now();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    // Lines before the call is identified are rare (errors, skips): their logger is made on first use.
    let earlyLog: Logger | undefined;
    const log = (): Logger => (earlyLog ??= this.deps.log.child({ channel_id: channel.id }));
    const entry: LiveSurvey = { callId: undefined, done };
    // Channel ids are unique per Asterisk server, not across servers.
    const liveKey = `${channel.server ?? ''}\u0000${channel.id}`;
    this.live.set(liveKey, entry);
    return this.survey(call, entry, digits, startedAt, log, admission)
      .catch(async (err: unknown) => {
        // Our failure, before a survey ran (e.g. Asterisk answered 500 while we read the call's
        // variables): the caller must not stay in our application in silence, and it is recorded.
        log().error({ err }, 'survey controller failed unexpectedly; sending the call back to the dialplan');
        await this.sendBackToDialplan(channel, log());
        await this.outcomes.record({ channel, identity: undefined, startedAt, outcome: 'failed', reason: err instanceof Error ? err.message : String(err), wasLive: false });
      })
      .finally(() => {
        unsubscribe();
        this.live.delete(liveKey);
        resolveDone();
      });
  }

  private async survey(
    call: IncomingCall,
    entry: LiveSurvey,
    digits: DigitBuffer,
    startedAt: Date,
    baseLog: () => Logger,
    admissionCheck: Pick<Admission, 'decide'> | undefined,
  ): Promise<void> {
    const { channel } = call;
    // Once, now: a config reload while this caller is checked or surveyed must not hand it a queue
    // from one config and an IVR from another. The running survey keeps this Ivr to its end.
    const { queues, ivrs } = this.deps.surveyConfig?.current() ?? this.deps;
    // Before any request for this caller (identifying it may read channel variables): a refused
    // caller must cost an overloaded Asterisk nothing but the `continue`.
    const admission = admissionCheck?.decide();
    if (admission && !admission.admitted) {
      const fromArgs = identityFromArgs(call.args);
      const known = invalidIdentity(fromArgs) ? undefined : fromArgs;
      const { exceeded, slowInFlight, recentLatencyMs } = admission;
      baseLog().info(
        { call_id: known?.callId, exceeded, slow_requests_in_flight: slowInFlight, recent_latency_ms: Math.round(recentLatencyMs) },
        'Asterisk overloaded: no survey, back to the dialplan',
      );
      await this.sendBackToDialplan(channel, baseLog());
      await this.outcomes.record({ channel, identity: known, startedAt, outcome: 'skipped', reason: 'overloaded', wasLive: false });
      return;
    }
    let identity: CallIdentity;
    try {
      identity = await identifyCall(call);
    } catch (err) {
      if (err instanceof ChannelGoneError) {
        baseLog().info('caller left before the survey could start');
        await this.outcomes.record({ channel, identity: undefined, startedAt, ...leftBeforeStart(err), wasLive: false });
        return;
      }
      throw err;
    }
    // One child per survey, with every binding at once: a child per binding level costs a serialization each.
    const log = this.deps.log.child({ channel_id: channel.id, call_id: identity.callId, agent_id: identity.agentId, queue_id: identity.queueId });
    let skip: string | undefined;
    try {
      skip = await skipReason(identity, {
        accepting: this.accepting,
        queues,
        ratings: this.deps.ratings,
        answers: this.deps.answers,
        surveyedHereOnAnotherChannel: (callId) => this.surveyedHereOnAnotherChannel(callId, entry),
        talkSeconds: () => talkSecondsOf(call),
      });
    } catch (err) {
      // Reading the talk time from the channel found it gone.
      if (err instanceof ChannelGoneError) {
        log.info('caller left before the survey could start');
        await this.outcomes.record({ channel, identity, startedAt, ...leftBeforeStart(err), wasLive: false });
        return;
      }
      throw err;
    }
    if (skip) {
      log.info({ reason: skip }, 'no survey for this call; back to the dialplan');
      await this.sendBackToDialplan(channel, log);
      await this.outcomes.record({ channel, identity, startedAt, outcome: 'skipped', reason: skip, wasLive: false });
      return;
    }
    const queue = queues.get(identity.queueId!)!;
    const ivr = ivrs.get(queue.after_call.csat_ivr!)!;
    entry.callId = identity.callId;
    const known = { callId: identity.callId!, agentId: identity.agentId!, queueId: identity.queueId! };
    const { claims } = this.deps;
    // The wait counts against the survey's max_duration: a caller is never held longer than that.
    const claim = claims ? await claims.claimOrWait(known.callId, channel.id, channel.gone, this.surveyTimeLeftMs(ivr, startedAt)) : { granted: true as const, waited: false };
    if (!claim.granted) {
      if (channel.gone.aborted) {
        log.info({ holder: claim.holder.engineId }, 'caller left while another engine held the call');
        await this.outcomes.record({ channel, identity, startedAt, ...leftBeforeStart(channel.gone.reason), wasLive: false });
        return;
      }
      // The same call on another channel, surveyed here or by another engine; or this channel held
      // by another engine that kept renewing for a whole lease (two Asterisk servers handing out the
      // same ${UNIQUEID}: see README "Scaling out", systemname). Never left in silence.
      log.info({ reason: 'survey_in_progress', holder: claim.holder.engineId, holder_channel_id: claim.holder.channelId }, 'no survey for this call; back to the dialplan');
      await this.sendBackToDialplan(channel, log);
      await this.outcomes.record({ channel, identity, startedAt, outcome: 'skipped', reason: 'survey_in_progress', wasLive: false });
      return;
    }
    // After waiting for another engine's lease: that engine may have stored the caller's rating before
    // it died (asked again, the caller would rate twice). And a wait that took nearly all of
    // max_duration leaves no time to ask anything: back to the dialplan rather than into a question
    // the deadline cuts off.
    // Last of all, once everything else said yes: the caller counts as surveyed from here on (resurvey_after_hours).
    const lateSkip =
      (claim.waited && (await this.deps.ratings.findByCallId(known.callId)) ? 'already_rated' : this.surveyTimeLeftMs(ivr, startedAt) < MIN_SURVEY_TIME_MS ? 'max_duration_spent_waiting' : undefined) ??
      (await resurveyReason(queue, known.callId, call.callerNumber, { queues, store: this.deps.surveyedCallers, hashKey: this.deps.callerHashKey, now: this.now() }).catch(async (err: unknown) => {
        // The database could not say: no survey (the caller is sent back, the outcome says why), and the call is free again.
        await claims?.release(known.callId);
        throw err;
      }));
    if (lateSkip) {
      await claims?.release(known.callId);
      log.info({ reason: lateSkip }, 'no survey for this call; back to the dialplan');
      await this.sendBackToDialplan(channel, log);
      await this.outcomes.record({ channel, identity, startedAt, outcome: 'skipped', reason: lateSkip, wasLive: false });
      return;
    }
    try {
      channel.admit();
      await this.runSurvey({
        channel,
        entry,
        identity: known,
        ivr,
        digits,
        startedAt,
        log,
        language: chooseLanguage(call.language, queue.after_call),
        linkFallback: queue.link_fallback,
        callerNumber: call.callerNumber,
      });
    } finally {
      await claims?.release(known.callId);
    }
  }

  /** This call's alert rules, or none when [alerts] has no rules. */
  private callAlerts(identity: { readonly callId: string; readonly agentId: string; readonly queueId: string }, ivr: string, teamId: string | undefined): CallAlerts | undefined {
    const alerts = this.deps.alerts;
    if (!alerts || alerts.config.rules.length === 0) return undefined;
    return new CallAlerts(alerts.config, { callId: identity.callId, agentId: identity.agentId, queueId: identity.queueId, teamId, ivr });
  }

  /** What the ending writes with its outcome row: alerts it fired, a rating link. */
  private endingFollowUps(ending: {
    readonly identity: { readonly callId: string; readonly agentId: string; readonly queueId: string };
    readonly ivr: Ivr;
    readonly outcome: SurveyOutcomeKind;
    readonly rated: boolean;
    readonly hungUpInQuestion: boolean;
    readonly callAlerts: CallAlerts | undefined;
    /** The agent's team, for the link's delivery as for the alerts. */
    readonly teamId: string | undefined;
    readonly session: SurveySession;
    readonly linkFallback: LinkFallbackConfig | undefined;
    readonly callerNumber: string | undefined;
    readonly log: Logger;
  }): OutcomeFollowUps {
    const at = this.now();
    // A caller who hung up in the middle of the survey (a question unanswered) after a bad first
    // answer: the supervisor hears of it with the outcome row. Not the outcome label: a stored
    // headline rating makes the survey "completed" even when later questions were left.
    const alerts = ending.hungUpInQuestion ? (ending.callAlerts?.abandoned(ending.session.answers, at) ?? []) : [];
    const { identity, ivr, linkFallback } = ending;
    if (!linkFallback || ivr.headline === undefined) return { alerts };
    const alertsConfig = this.deps.alerts?.config;
    const link = linkFor(
      linkFallback,
      alertsConfig?.publicUrl ?? '',
      { ...identity, teamId: ending.teamId, ivr: ivr.name, questionId: ivr.headline, callerNumber: ending.callerNumber },
      { outcome: ending.outcome, rated: ending.rated },
      at,
    );
    if (!link) {
      // Said (without the number), so an operator can tell why a caller who left got no link.
      if (!ending.rated && (linkFallback.on as readonly string[]).includes(ending.outcome) && reachableNumber(ending.callerNumber) === undefined) {
        ending.log.info({ outcome: ending.outcome }, 'no rating link: the caller number cannot receive one (none, anonymous, or not 6 to 15 digits)');
      }
      return { alerts };
    }
    // queues.toml reloads; engine.toml's [alerts] does not: a reloaded queue may name a destination
    // (or need a public_url) this engine did not start with. No link then, said in the log: a link
    // queued for a destination no worker here delivers would wait in the outbox for nothing.
    if (alertsConfig?.publicUrl === undefined || !alertsConfig.destinations.has(linkFallback.destination)) {
      ending.log.warn({ destination: linkFallback.destination }, 'no rating link: its destination or [alerts] public_url is not in the engine.toml this engine started with; restart it to apply');
      return { alerts };
    }
    // The token and the caller number stay out of the log: the link's creation is logged by call id.
    ending.log.info({ outcome: ending.outcome, destination: linkFallback.destination, expires_at: link.link.expires_at }, 'rating link created');
    return { alerts: [...alerts, link.delivery], link: link.link };
  }

  /** max_duration counts from the moment the caller entered the app, waits for a claim included. */
  private surveyTimeLeftMs(ivr: Ivr, startedAt: Date): number {
    return Math.max(0, ivr.max_duration_ms - (this.now().getTime() - startedAt.getTime()));
  }

  private surveyedHereOnAnotherChannel(callId: string, entry: LiveSurvey): boolean {
    for (const survey of this.live.values()) {
      if (survey !== entry && survey.callId === callId) return true;
    }
    return false;
  }

  private async runSurvey(args: {
    channel: CallChannel;
    entry: LiveSurvey;
    identity: { readonly callId: string; readonly agentId: string; readonly queueId: string };
    ivr: Ivr;
    digits: DigitBuffer;
    startedAt: Date;
    log: Logger;
    /** The caller's language (the channel's when the queue offers it) and the queue's default. */
    language: SurveyLanguage;
    /** The queue's rating link for callers who leave before rating, and where it would go. */
    linkFallback: LinkFallbackConfig | undefined;
    callerNumber: string | undefined;
  }): Promise<void> {
    const { channel, entry, identity, ivr, digits, startedAt, log, language } = args;
    this.deps.observer?.surveyStarted?.();
    // One controller per survey, fed by hand: AbortSignal.any on Node 20 keeps a reference to every
    // survey's signal in the long-lived source signals, and AbortSignal.timeout builds a DOMException.
    const survey = new AbortController();
    const { signal } = survey;
    const onGone = (): void => survey.abort(channel.gone.reason);
    if (channel.gone.aborted) onGone();
    else channel.gone.addEventListener('abort', onGone, { once: true });
    if (this.forcedStop) survey.abort(this.forcedStop);
    entry.abort = (reason) => survey.abort(reason);
    const deadline = setTimeout(() => survey.abort(new SurveyDeadlineError(ivr.max_duration_ms)), this.surveyTimeLeftMs(ivr, startedAt));
    // Read once per call: teams.toml may be reloaded while the caller answers.
    const teamId = teamOf(this.deps.alerts, identity.agentId);
    const callAlerts = this.callAlerts(identity, ivr.name, teamId);
    const session = new SurveySession(
      { identity, ivr: ivr.name, answers: this.deps.answers, digits, log, now: this.now, observer: this.deps.observer, language: language.language, alerts: callAlerts },
      ivr.step[0]!.id,
    );
    const ctx: StepContext = {
      ivr,
      channel,
      signal,
      digits,
      language,
      answers: session.answers,
      countAttempt: () => session.countAttempt(),
      get log() {
        return session.stepLog;
      },
    };
    // At debug: "survey ended" carries the same fields, and every line costs the event loop under load.
    log.debug({ ivr: ivr.name, language: language.language }, 'survey started');
    let end: RunEnd;
    try {
      if (channel.initialState !== 'Up') await channel.answer();
      end = await runIvr(ivr, ctx, session);
    } catch (err) {
      if (signal.aborted) {
        end = { kind: 'aborted', reason: signal.reason, lastStep: session.currentStep };
      } else if (err instanceof ChannelGoneError) {
        // The call ended under the survey before Asterisk said so (a shutdown's soft hangup).
        end = { kind: 'aborted', reason: err, lastStep: session.currentStep };
      } else {
        log.error({ err, step: session.currentStep }, 'survey failed');
        end = { kind: 'failed', reason: err instanceof Error ? err.message : String(err), lastStep: session.currentStep };
      }
    }
    clearTimeout(deadline);
    channel.gone.removeEventListener('abort', onGone);
    delete entry.abort;
    const { rating, attempts } = session;
    // A comment kept from a caller who hung up while speaking answered its question.
    const inQuestion =
      (session.currentStepType === 'collect' || session.currentStepType === 'consent' || session.currentStepType === 'record') &&
      !session.answers.some((answer) => answer.question === session.currentStep);
    const { outcome, reason } = classifyEnd(
      end,
      {
        rated: rating !== undefined,
        answered: session.answers.length,
        skipped: session.skippedQuestions,
        consent: session.consentGiven,
        consentBy: session.consentBy,
        inQuestion,
      },
      ivr,
    );
    // Whatever happened, the caller is let go: hang up unless they already did.
    if (!channel.gone.aborted) {
      await channel.hangup().catch((err: unknown) => log.warn({ err }, 'hangup after survey failed'));
    }
    await this.outcomes.record({
      channel,
      identity,
      startedAt,
      outcome,
      reason: session.storedNote ?? reason,
      ivr: ivr.name,
      attempts,
      lastStep: end.lastStep,
      score: rating?.value,
      consent: session.consentGiven,
      wasLive: true,
      followUps: this.endingFollowUps({ ...args, outcome, rated: rating !== undefined, hungUpInQuestion: hungUpInQuestion(end, inQuestion), callAlerts, teamId, session, log }),
    });
    log.info({ outcome, reason, attempts, last_step: end.lastStep, score: rating?.value }, 'survey ended');
  }

  /** A caller we do not (or can no longer) survey goes back to the dialplan; a failure is logged, not thrown. */
  private async sendBackToDialplan(channel: CallChannel, log: Logger): Promise<void> {
    await channel.continueInDialplan().catch((err: unknown) => log.error({ err }, 'could not send the call back to the dialplan'));
  }

  /**
   * Stops taking new surveys (new channels go back to the dialplan), waits for live ones up to
   * `graceMs`, then aborts the rest (they are hung up and recorded as failed: shutdown_deadline).
   */
  async drain(graceMs: number): Promise<{ finished: number; aborted: number }> {
    this.accepting = false;
    const pending = [...this.live.values()].map((survey) => survey.done);
    if (pending.length === 0) return { finished: 0, aborted: 0 };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.all(pending).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return { finished: pending.length, aborted: 0 };
    const stillLive = this.live.size;
    this.forcedStop = new ShutdownDeadlineError();
    for (const survey of this.live.values()) survey.abort?.(this.forcedStop);
    await Promise.all([...this.live.values()].map((survey) => survey.done));
    return { finished: pending.length - stillLive, aborted: stillLive };
  }
}

/** How a caller who left before their survey began is recorded: hung up, or taken by another connection. */
function hungUpInQuestion(end: RunEnd, inQuestion: boolean): boolean {
  return end.kind === 'aborted' && end.reason instanceof ChannelGoneError && inQuestion;
}

function leftBeforeStart(reason: unknown): { outcome: SurveyOutcomeKind; reason: string } {
  // Not the caller's doing: the channel is still up, its events go to whoever took the ARI application.
  if (reason instanceof ChannelTakenOverError) return { outcome: 'failed', reason: 'ari_application_replaced' };
  return { outcome: 'abandoned', reason: 'hangup_before_start' };
}
