CREATE TABLE "session_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"body" text NOT NULL,
	"source" text NOT NULL,
	"delivery_id" text,
	"turn_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "turns" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"number" integer NOT NULL,
	"status" text DEFAULT 'starting' NOT NULL,
	"runner_id" text NOT NULL,
	"handle" jsonb,
	"log_path" text NOT NULL,
	"log_offset" bigint DEFAULT 0 NOT NULL,
	"exit_code" integer,
	"outcome" text,
	"summary" text,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "context" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "session_messages" ADD CONSTRAINT "session_messages_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "turns" ADD CONSTRAINT "turns_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "session_messages_pending_idx" ON "session_messages" USING btree ("session_id","id") WHERE "session_messages"."turn_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "turns_session_number_idx" ON "turns" USING btree ("session_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "turns_one_active_idx" ON "turns" USING btree ("session_id") WHERE "turns"."status" <> 'finished';