/**
 * The chat service from the streaming guide: a bidirectional conversation. Each message the client
 * sends gets a reply as soon as it arrives, while the client keeps the call open.
 */
import { Service, stream, streaming, z } from "../mod.ts";

/** A message from the user. */
export const ChatMessage = z.object({ user: z.string().min(1), text: z.string().max(2000) });

/** The bot's answer to one message. */
export const ChatReply = z.object({
  text: z.string(),
  in_reply_to: z.number().int().describe("Index of the message this answers"),
});

export const chat = new Service("chat", { description: "A tiny chat bot" })
  .method("conversation", {
    input: stream(ChatMessage),
    output: streaming(ChatReply),
    description: "Replies to each message as it arrives.",
  }, async function* (messages) {
    let index = 0;
    for await (const message of messages) {
      const words = message.text.trim().split(/\s+/).filter(Boolean).length;
      yield {
        text: `${message.user}, you said ${words} word${words === 1 ? "" : "s"}: "${message.text}"`,
        in_reply_to: index++,
      };
    }
  });
